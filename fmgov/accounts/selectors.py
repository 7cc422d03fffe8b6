"""Reads for accounts: which API tokens a user may see, whether a user signs in through single sign-on."""

from django.db.models import QuerySet

from fmgov.accounts.models import ApiToken, SsoIdentity
from fmgov.core.roles import Role, has_role

__all__ = ["is_sso_user", "tokens_visible_to"]


def tokens_visible_to(user) -> QuerySet[ApiToken]:
    """Admins see every token, anyone else only their own (another's is a 404, not a 403)."""
    tokens = ApiToken.objects.select_related("user").order_by("-created_at", "-pk")
    if has_role(user, Role.ADMIN):
        return tokens
    return tokens.filter(user=user)


def is_sso_user(user) -> bool:
    """Whether ``user`` was created by (and is linked to) the OpenID Connect identity provider."""
    if user is None or user.pk is None:
        return False
    return SsoIdentity.objects.filter(user_id=user.pk).exists()
