from django.core.management.base import BaseCommand, CommandError

from fmgov.accounts.services import token_create, user_create
from fmgov.core.exceptions import DomainError
from fmgov.core.roles import Role


class Command(BaseCommand):
    help = "Create a user with one or more roles; the API token is the last line of output."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", action="append", required=True, choices=Role.values, dest="roles")
        parser.add_argument("--password", default=None)
        parser.add_argument("--email", default="")

    def handle(self, *args, username, roles, password, email, **options):
        try:
            # An admin is a superuser from the start, recorded in the user.create event.
            user = user_create(
                username=username, roles=roles, password=password, email=email, is_superuser=Role.ADMIN in roles
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        _, key = token_create(user=user, name="adduser")
        self.stdout.write(f"created {username} with roles {', '.join(sorted(roles))}")
        self.stdout.write(key)
