from django.core.management.base import BaseCommand

from audits.services import checkpoint_create


class Command(BaseCommand):
    help = "Record a signed checkpoint of the audit-trail head."

    def handle(self, *args, **options):
        cp = checkpoint_create()
        self.stdout.write(f"checkpoint at sequence {cp.seq}, head {cp.head_hash}")
