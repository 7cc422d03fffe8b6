import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from fmgov.accounts.services import user_create


class Command(BaseCommand):
    help = "Make sure an admin login exists (username admin) and print how to log in."

    def handle(self, *args, **options):
        User = get_user_model()
        password_file = settings.VAR_DIR / "admin-password.txt"
        with transaction.atomic():
            if not User.objects.filter(username="admin").exists():
                password = secrets.token_urlsafe(12)
                user = user_create(username="admin", roles=["admin"], password=password, email="admin@example.org")
                user.is_superuser = True
                user.save(update_fields=["is_superuser"])
                password_file.write_text(password + "\n")
                password_file.chmod(0o600)
        password = password_file.read_text().strip() if password_file.exists() else "(set before; see var/)"
        self.stdout.write(f"Admin login: admin / {password}   (demo users: see README, password 'demo-password')")
