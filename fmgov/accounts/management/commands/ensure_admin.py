import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from fmgov.accounts.demo import DEMO_PASSWORD, DEMO_USERS
from fmgov.accounts.services import user_create

PASSWORD_FILE_NAME = "admin-password.txt"


def _shown(path: Path) -> str:
    """Relative to the repository when inside it (``var/admin-password.txt``), else absolute."""
    try:
        return str(path.relative_to(settings.BASE_DIR))
    except ValueError:
        return str(path)


class Command(BaseCommand):
    help = "Make sure an admin login exists (username admin) and say how to log in."

    def handle(self, *args, **options):
        User = get_user_model()
        password_file = Path(settings.VAR_DIR) / PASSWORD_FILE_NAME
        with transaction.atomic():
            if not User.objects.filter(username="admin").exists():
                password = secrets.token_urlsafe(12)
                user_create(
                    username="admin", roles=["admin"], password=password, email="admin@example.org", is_superuser=True
                )
                password_file.write_text(password + "\n")
                password_file.chmod(0o600)
        # Where the password is, not the password: the terminal's scrollback is no place for it.
        if password_file.exists():
            self.stdout.write(f"Log in as admin; the password is in {_shown(password_file)}")
        else:
            self.stdout.write(
                f"Log in as admin; its password was set before and is not in {_shown(password_file)} "
                "(python manage.py setpassword admin sets a new one)"
            )
        present = set(
            User.objects.filter(username__in=[u for u, _, _ in DEMO_USERS]).values_list("username", flat=True)
        )
        by_role: dict[str, list[str]] = {}
        for username, roles, _ in DEMO_USERS:
            if username in present:
                by_role.setdefault(roles[0], []).append(username)
        if by_role:
            users = "; ".join(f"{', '.join(names)} ({role})" for role, names in by_role.items())
            self.stdout.write(f"Demo users, password {DEMO_PASSWORD!r}: {users}")
