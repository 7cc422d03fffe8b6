"""Reads for accounts: which API tokens a user may see."""

from django.db.models import QuerySet

from fmgov.accounts.models import ApiToken
from fmgov.core.roles import Role, has_role

__all__ = ["tokens_visible_to"]


def tokens_visible_to(user) -> QuerySet[ApiToken]:
    """Admins see every token, anyone else only their own (another's is a 404, not a 403)."""
    tokens = ApiToken.objects.select_related("user").order_by("-created_at", "-pk")
    if has_role(user, Role.ADMIN):
        return tokens
    return tokens.filter(user=user)
