from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "fmgov.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self) -> None:
        from fmgov.accounts import signals  # noqa: F401
