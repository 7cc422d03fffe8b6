from django.core.management.base import BaseCommand, CommandError

from audits.selectors import verify_chain


class Command(BaseCommand):
    help = "Verify the hash chain and checkpoints; exit non-zero naming the first bad sequence number."

    def add_arguments(self, parser):
        parser.add_argument(
            "--columns",
            action="store_true",
            help="Also check that every event's filter columns say what its hashed bytes say (pages show the bytes).",
        )

    def handle(self, *args, **options):
        result = verify_chain(columns=options["columns"])
        if not result.ok:
            raise CommandError(f"audit trail BROKEN at sequence {result.first_bad_seq}: {result.reason}")
        self.stdout.write(
            f"audit trail OK: {result.length} events, {result.checkpoints_checked} checkpoints, head {result.head_hash}"
        )
