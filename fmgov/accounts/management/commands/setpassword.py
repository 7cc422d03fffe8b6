"""`manage.py setpassword USERNAME`: Django's changepassword, through the audited service (it revokes tokens)."""

import getpass

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from fmgov.accounts.services import user_set_password
from fmgov.core.exceptions import InvalidInput


class Command(BaseCommand):
    help = "Set a user's password (asked twice, never on the command line); the user's API tokens are revoked."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def _get_pass(self, prompt: str) -> str:
        return getpass.getpass(prompt)

    def handle(self, *args, username: str, **options) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"User {username!r} does not exist.")
        password = self._get_pass("Password: ")
        if password != self._get_pass("Password (again): "):
            raise CommandError("The passwords do not match.")
        try:
            user_set_password(user=user, password=password)
        except InvalidInput as exc:
            raise CommandError(" ".join(exc.field_errors.get("password", [exc.message]))) from exc
        self.stdout.write(f"Password changed for {username}; its API tokens are revoked.")
