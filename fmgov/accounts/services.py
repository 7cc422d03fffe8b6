"""Users, roles and API tokens."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from audits.services import audit_record
from fmgov.accounts.models import ApiToken, hash_token_key
from fmgov.core.exceptions import InvalidInput
from fmgov.core.roles import Role

__all__ = ["user_create", "user_set_roles", "token_create", "token_revoke"]

User = get_user_model()


def _groups(roles: list[str]) -> list[Group]:
    unknown = sorted(set(roles) - set(Role.values))
    if unknown:
        raise InvalidInput(
            f"Unknown role(s): {', '.join(unknown)}.",
            field_errors={"roles": [f"Choose from {', '.join(Role.values)}."]},
        )
    return [Group.objects.get_or_create(name=role)[0] for role in roles]


@transaction.atomic
def user_create(*, username: str, roles: list[str], password: str | None = None, email: str = "", actor=None) -> "User":
    """Create a user holding the given roles; user and role events come from signals."""
    if User.objects.filter(username=username).exists():
        raise InvalidInput(f"User {username!r} already exists.", field_errors={"username": ["Already taken."]})
    groups = _groups(roles)
    user = User(username=username, email=email, is_staff=Role.ADMIN in roles)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user._fmgov_actor = actor
    user.save()
    user.groups.set(groups)
    return user


@transaction.atomic
def user_set_roles(*, user, roles: list[str], actor=None):
    groups = _groups(roles)
    user._fmgov_actor = actor
    user.groups.set(groups)
    if user.is_staff != (Role.ADMIN in roles):
        user.is_staff = Role.ADMIN in roles
        user.save(update_fields=["is_staff"])
    return user


@transaction.atomic
def token_create(*, user, name: str = "", lifetime_days: int | None = None) -> tuple[ApiToken, str]:
    """Returns the token row and the key, which is shown once and never stored."""
    key = secrets.token_hex(20)
    days = lifetime_days or settings.API_TOKEN_LIFETIME_DAYS
    token = ApiToken.objects.create(
        user=user,
        key_hash=hash_token_key(key),
        prefix=key[:8],
        name=name,
        expires_at=timezone.now() + timedelta(days=days),
    )
    audit_record(
        action="token.create",
        actor=user,
        obj=token,
        object_repr=f"token {token.prefix}… of {user.username}",
        changes={"user": user.username, "name": name, "expires_at": token.expires_at},
    )
    return token, key


@transaction.atomic
def token_revoke(*, token: ApiToken, actor) -> ApiToken:
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            action="token.revoke",
            actor=actor,
            obj=token,
            object_repr=f"token {token.prefix}… of {token.user.username}",
            changes={"revoked_at": token.revoked_at},
        )
    return token
