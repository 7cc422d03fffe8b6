from django.core.management.base import BaseCommand

from audits.export import export_trail


class Command(BaseCommand):
    help = "Write the audit trail as JSON Lines; verify it offline with audits/verify_export.py."

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, path: str, **options):
        with open(path, "wb") as stream:
            events, checkpoints = export_trail(stream)
        self.stdout.write(f"wrote {events} events and {checkpoints} checkpoints to {path}")
