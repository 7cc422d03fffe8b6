from django.apps import AppConfig
from django.db.models.signals import post_migrate

from fmgov.core.roles import Role


def _ensure_role_groups(sender, apps=None, using="default", **kwargs) -> None:
    """The four role groups exist after every migrate and after a flush."""
    if apps is None:
        from django.apps import apps
    Group = apps.get_model("auth", "Group")
    for name in Role.values:
        Group.objects.using(using).get_or_create(name=name)


class AccountsConfig(AppConfig):
    name = "fmgov.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self) -> None:
        post_migrate.connect(_ensure_role_groups, sender=self, dispatch_uid="accounts-role-groups")
        from django.core import checks

        from fmgov.accounts import guards
        from fmgov.accounts.selectors import no_role_explanation
        from fmgov.accounts.sso_config import check_sso_settings
        from fmgov.core import middleware

        guards.connect()
        middleware.no_role_explanation.register(no_role_explanation)
        checks.register(check_sso_settings, checks.Tags.security)
