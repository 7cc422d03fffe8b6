"""``manage.py purge_expired runs|reports|attachments --actor admin [--dry-run]``: the admin's retention purge."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from fmgov.core.exceptions import DomainError
from fmgov.retention.conf import RECORD_CLASSES
from fmgov.retention.services import purge_candidates, purge_expired


class Command(BaseCommand):
    help = "Delete the records of one class past their retention period, except what a current approval binds."

    def add_arguments(self, parser) -> None:
        parser.add_argument("record_class", choices=RECORD_CLASSES)
        parser.add_argument("--actor", required=True, help="Username of the admin doing this (recorded in the trail).")
        parser.add_argument("--dry-run", action="store_true", help="Only say what would be deleted and kept.")

    def handle(self, *args, record_class: str, actor: str, dry_run: bool, **options) -> None:
        user = get_user_model().objects.filter(username=actor, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {actor!r}.")
        try:
            if dry_run:
                preview = purge_candidates(record_class)
                self.stdout.write(
                    f"{record_class}: {len(preview['expired'])} past {preview['retention_days']} days would be "
                    f"deleted, {len(preview['kept_bound'])} kept (bound by a current approval)."
                )
                return
            result = purge_expired(record_class=record_class, actor=user)
        except DomainError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"{record_class}: deleted {result['deleted']} older than {result['retention_days']} days "
            f"(before {result['cutoff']:%Y-%m-%d %H:%M} UTC); kept {result['kept_bound']} bound by a current approval."
        )
