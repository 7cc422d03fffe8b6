from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audits.signing import write_key_pair


class Command(BaseCommand):
    help = (
        "Write a new Ed25519 checkpoint key pair into DIR: audit-signing-key.pem (PKCS#8, for the signer only) "
        "and audit-signing-key.pub.pem (for AUDIT_PUBLIC_KEY_FILES and for auditors)."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory")

    def handle(self, *args, directory: str, **options):
        try:
            private_file, public_file, key = write_key_pair(Path(directory))
        except FileExistsError:
            raise CommandError(f"{directory} already holds audit-signing-key.pem; not overwriting a key.") from None
        self.stdout.write(
            f"key id {key}\n"
            f"AUDIT_SIGNING_KEY_FILE={private_file}  # the signer only\n"
            f"AUDIT_PUBLIC_KEY_FILES={public_file}"
        )
