"""Users, roles and API tokens."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audits.services import audit_record, created
from fmgov.accounts.models import ApiToken, hash_token_key
from fmgov.core.exceptions import InvalidInput
from fmgov.core.roles import Role

__all__ = [
    "user_create",
    "user_set_roles",
    "user_set_active",
    "user_set_password",
    "user_password_changed",
    "user_active_changed",
    "token_create",
    "token_revoke",
    "user_tokens_revoke",
]

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
        changes=created({"user": user.username, "name": name, "expires_at": token.expires_at}),
    )
    return token, key


def _revoke(token: ApiToken, *, actor, reason: str) -> bool:
    """Revoke one locked token row; False if it was already revoked."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    context = {"user": token.user.username, **({"reason": reason} if reason else {})}
    audit_record(
        action="token.revoke",
        actor=actor,
        system="" if actor is not None else "accounts",
        obj=token,
        object_repr=f"token {token.prefix}… of {token.user.username}",
        changes={"revoked_at": [None, token.revoked_at]},
        context=context,
    )
    return True


@transaction.atomic
def token_revoke(*, token: ApiToken, actor, reason: str = "") -> ApiToken:
    """Revoke one token (idempotent: a second revoke records nothing)."""
    token = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
    _revoke(token, actor=actor, reason=reason)
    return token


@transaction.atomic
def user_tokens_revoke(*, user, actor=None, reason: str) -> int:
    """Revoke every token of ``user`` still unrevoked; returns how many, each one audited."""
    tokens = ApiToken.objects.select_for_update().select_related("user").filter(user=user, revoked_at__isnull=True)
    return sum(_revoke(token, actor=actor, reason=reason) for token in tokens)


@transaction.atomic
def user_set_active(*, user, is_active: bool, actor=None):
    """Activate or deactivate; ``user_active_changed`` (via the save signal) audits it and revokes tokens."""
    user._fmgov_actor = actor
    user.is_active = is_active
    user.save(update_fields=["is_active"])
    return user


@transaction.atomic
def user_set_password(*, user, password: str, actor=None):
    """Set a password under the validators; ``user_password_changed`` (via the save signal) revokes tokens."""
    try:
        validate_password(password, user=user)
    except ValidationError as error:
        raise InvalidInput("The password was refused.", field_errors={"password": list(error.messages)}) from error
    user._fmgov_actor = actor
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


@transaction.atomic
def user_password_changed(*, user, actor=None) -> int:
    """A new password ends every API token: whoever held one must log in again."""
    audit_record(
        action="user.password_change",
        actor=actor,
        system="" if actor is not None else "accounts",
        obj=user,
        context={"username": user.username},
    )
    return user_tokens_revoke(user=user, actor=actor, reason="password changed")


@transaction.atomic
def user_active_changed(*, user, actor=None) -> int:
    """Record an activation or deactivation; a deactivated user's tokens are revoked."""
    audit_record(
        action="user.activate" if user.is_active else "user.deactivate",
        actor=actor,
        system="" if actor is not None else "accounts",
        obj=user,
        changes={"is_active": [not user.is_active, user.is_active]},
        context={"username": user.username},
    )
    if user.is_active:
        return 0
    return user_tokens_revoke(user=user, actor=actor, reason="user deactivated")
