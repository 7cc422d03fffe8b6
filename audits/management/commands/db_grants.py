"""`manage.py db_grants ROLE`: give the app's database role its privileges, none over history (audits.db_roles)."""

import os

from django.core.management.base import BaseCommand, CommandError

from audits.db_roles import app_role_grants, apply_app_role_grants


class Command(BaseCommand):
    help = "Print (or, as the owner role, --apply) the app role's grants: no UPDATE/DELETE/TRUNCATE on history."

    def add_arguments(self, parser):
        parser.add_argument("role", help="the role web, workers and beat connect as")
        parser.add_argument("--apply", action="store_true", help="create the role if missing and run the grants")
        parser.add_argument(
            "--password-env", default="", help="environment variable holding the role's password (set on --apply)"
        )

    def handle(self, *args, role: str, apply: bool, password_env: str, **options) -> None:
        if not apply:
            self.stdout.write(";\n".join(app_role_grants(role)) + ";")
            return
        password = os.environ.get(password_env) if password_env else None
        if password_env and not password:
            raise CommandError(f"{password_env} is not set.")
        try:
            done = apply_app_role_grants(role, password=password)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"granted {role}: {len(done)} statements")
