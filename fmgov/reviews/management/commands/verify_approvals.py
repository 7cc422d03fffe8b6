from django.core.management.base import BaseCommand, CommandError

from fmgov.reviews.services import approvals_verify


class Command(BaseCommand):
    help = (
        "Recompute the content hash behind every approved and live deployment; suspend, open a finding for and "
        "list each that drifted from what its board signed. Exits non-zero when anything drifted."
    )

    def handle(self, *args, **options):
        drifted = approvals_verify()
        for drift in drifted:
            self.stdout.write(f"DRIFT {drift}")
        if drifted:
            raise CommandError(
                f"{len(drifted)} approval(s) drifted; the deployments are suspended and findings opened."
            )
        self.stdout.write("Every approved and live deployment matches what its board signed.")
