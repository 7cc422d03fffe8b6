from django.core.management.base import BaseCommand, CommandError

from audits.anchors import checkpoint_anchor
from audits.checkpoints import SignerRefused, SigningKeyUnavailable, checkpoint_create
from audits.export import export_trail

# An append between signing and reading leaves the newest events unsigned; sign and read again, a few times.
ATTEMPTS = 5


class Command(BaseCommand):
    help = (
        "Sign a checkpoint of the head, then write the audit trail as JSON Lines; verify it offline with "
        "audits/verify_export.py. Runs where AUDIT_SIGNING_KEY_FILE is (--no-checkpoint to export without signing)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument(
            "--no-checkpoint",
            action="store_true",
            help="do not sign first (events after the last checkpoint stay unsigned)",
        )

    def handle(self, *args, path: str, no_checkpoint: bool, **options):
        with open(path, "wb") as stream:
            for _attempt in range(1 if no_checkpoint else ATTEMPTS):
                signed = None if no_checkpoint else self._sign()
                stream.seek(0)
                stream.truncate()
                events, checkpoints = export_trail(stream)
                if signed is None or events == signed:
                    break
        self.stdout.write(f"wrote {events} events and {checkpoints} checkpoints to {path}")
        if signed is not None and events != signed:
            self.stderr.write(f"the trail kept growing: events after sequence {signed} are not covered by a signature")

    def _sign(self) -> int:
        """Sign the head, then timestamp and witness it (AUDIT_TSA_URLS, AUDIT_WITNESSES) so the export carries it."""
        try:
            checkpoint = checkpoint_create()
        except (SigningKeyUnavailable, SignerRefused) as exc:
            raise CommandError(f"no checkpoint signed, nothing exported: {exc}") from None
        for target, problem in checkpoint_anchor(checkpoint=checkpoint).items():
            self.stderr.write(f"checkpoint at sequence {checkpoint.seq} not anchored by {target}: {problem}")
        return checkpoint.seq
