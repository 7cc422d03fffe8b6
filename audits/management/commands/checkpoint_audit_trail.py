from django.core.management.base import BaseCommand, CommandError

from audits.checkpoints import SignerRefused, SigningKeyUnavailable, checkpoint_create


class Command(BaseCommand):
    help = "Sign a checkpoint of the audit-trail head (needs AUDIT_SIGNING_KEY_FILE)."

    def handle(self, *args, **options):
        try:
            cp = checkpoint_create()
        except (SigningKeyUnavailable, SignerRefused) as exc:
            raise CommandError(f"no checkpoint signed: {exc}") from None
        self.stdout.write(f"checkpoint at sequence {cp.seq}, head {cp.head_hash}, key {cp.key_id}")
