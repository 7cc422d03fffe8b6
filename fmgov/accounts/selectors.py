"""Reads for accounts: which API tokens a user may see, whether a user signs in through single sign-on."""

from django.db.models import QuerySet

from fmgov.accounts.models import ApiToken, SsoIdentity
from fmgov.accounts.sso_config import provider_name, sso_enabled
from fmgov.core.middleware import NO_ROLE_MESSAGE
from fmgov.core.roles import Role, has_role

__all__ = ["is_sso_user", "no_role_explanation", "tokens_visible_to"]

SSO_NO_ROLE_MESSAGE = (
    "You sign in through {provider}, and your groups there map to no fmgov role. Your role comes from your "
    "{provider} groups, not from an fmgov admin: ask whoever manages {provider} to add you to a group that fmgov "
    "maps to a role, then sign in again with {provider}."
)


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


def no_role_explanation(user) -> tuple[str, str]:
    """Where a role-less user gets a role: for single sign-on users their provider's groups (and which provider)."""
    if sso_enabled() and is_sso_user(user):
        provider = provider_name()
        return SSO_NO_ROLE_MESSAGE.format(provider=provider), provider
    return NO_ROLE_MESSAGE, ""
