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

from audits.services import audit_record, created, diff
from fmgov.accounts.guards import audited_write
from fmgov.accounts.models import ApiToken, hash_token_key
from fmgov.accounts.selectors import is_sso_user
from fmgov.accounts.sso_config import manages_roles, provider_name
from fmgov.core.actors import Actor
from fmgov.core.exceptions import InvalidInput, NotAllowed
from fmgov.core.roles import Role

__all__ = [
    "ROLE_SOURCE_LOCAL",
    "ROLE_SOURCE_SSO",
    "SSO_ROLE_REFUSAL",
    "USER_PROFILE_FIELDS",
    "user_create",
    "user_update",
    "user_set_roles",
    "user_set_superuser",
    "user_set_active",
    "user_set_password",
    "token_create",
    "token_revoke",
    "user_tokens_revoke",
]

User = get_user_model()

# What an admin may edit on a user besides roles, superuser, active flag and password (each its own service).
USER_PROFILE_FIELDS = ("username", "email", "first_name", "last_name")

# Who sets a user's roles: an admin (the user admin, commands) or the identity provider at each single sign-on.
ROLE_SOURCE_LOCAL = "local"
ROLE_SOURCE_SSO = "sso"
SSO_ROLE_REFUSAL = (
    "{username} signs in through {provider}: their roles come from the identity provider's groups and are applied "
    "at every sign-in. Change their groups there; local role and superuser edits are refused."
)


def _groups(roles: list[str]) -> list[Group]:
    unknown = sorted(set(roles) - set(Role.values))
    if unknown:
        raise InvalidInput(
            f"Unknown role(s): {', '.join(unknown)}.",
            field_errors={"roles": [f"Choose from {', '.join(Role.values)}."]},
        )
    return [Group.objects.get_or_create(name=role)[0] for role in roles]


def _system(actor: Actor) -> str:
    """Events without an acting user (commands, start-up) are attributed to this app."""
    return "" if actor is not None else "accounts"


def _locked(user):
    return User.objects.select_for_update().get(pk=user.pk)


def _refuse_local_role_edit(user, source: str) -> None:
    """While single sign-on is on, the identity provider is the only source of its users' roles."""
    if source == ROLE_SOURCE_SSO:
        return
    if manages_roles() and is_sso_user(user):
        message = SSO_ROLE_REFUSAL.format(username=user.username, provider=provider_name())
        raise NotAllowed(message, field_errors={"roles": [message]})


def _role_event_origin(actor: Actor, source: str) -> tuple[str, dict]:
    """(system, context) of a role event: the identity provider's changes are attributed to it."""
    if source == ROLE_SOURCE_SSO:
        return "sso", {"source": "identity provider"}
    return _system(actor), {}


@transaction.atomic
def user_create(
    *,
    username: str,
    roles: list[str],
    password: str | None = None,
    email: str = "",
    is_superuser: bool = False,
    actor: Actor = None,
):
    """Create a user holding the given roles; creation, roles and a superuser flag are one audited change."""
    if not username:
        raise InvalidInput("A username is required.", field_errors={"username": ["This field is required."]})
    if User.objects.filter(username=username).exists():
        raise InvalidInput(f"User {username!r} already exists.", field_errors={"username": ["Already taken."]})
    groups = _groups(roles)
    user = User(username=username, email=email, is_staff=Role.ADMIN in roles, is_superuser=is_superuser)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    with audited_write():
        user.save()
    user.groups.set(groups)
    audit_record(
        action="user.create",
        actor=actor,
        system=_system(actor),
        obj=user,
        changes=created(
            {
                "username": user.username,
                "email": user.email,
                "is_superuser": user.is_superuser,
                "is_staff": user.is_staff,
                "roles": sorted(roles),
            }
        ),
    )
    if roles:
        audit_record(
            action="user.roles_changed",
            actor=actor,
            system=_system(actor),
            obj=user,
            changes={"roles": [[], sorted(set(roles))]},
            context={"added": sorted(set(roles))},
        )
    return user


@transaction.atomic
def user_update(*, user, actor: Actor, **fields):
    """Edit a user's name and e-mail; anything else goes through its own service so it is its own event."""
    unknown = sorted(set(fields) - set(USER_PROFILE_FIELDS))
    if unknown:
        raise InvalidInput(
            "These fields are not edited here.", field_errors={name: ["Not editable here."] for name in unknown}
        )
    user = _locked(user)
    if "username" in fields:
        if not fields["username"]:
            raise InvalidInput("A username is required.", field_errors={"username": ["This field is required."]})
        if User.objects.filter(username=fields["username"]).exclude(pk=user.pk).exists():
            raise InvalidInput("That username is taken.", field_errors={"username": ["Already taken."]})
    before = {name: getattr(user, name) for name in fields}
    changes = diff(before, fields)
    if not changes:
        return user
    for name, value in fields.items():
        setattr(user, name, value)
    user.save(update_fields=sorted(changes))
    audit_record(action="user.update", actor=actor, system=_system(actor), obj=user, changes=changes)
    return user


@transaction.atomic
def user_set_roles(*, user, roles: list[str], actor: Actor = None, source: str = ROLE_SOURCE_LOCAL):
    """Roles are groups; admins are staff (they reach the Django admin), nobody else is.

    A single sign-on user's roles are set by the identity provider only (``source=ROLE_SOURCE_SSO``).
    """
    groups = _groups(roles)
    _refuse_local_role_edit(user, source)
    user = _locked(user)
    before = sorted(user.groups.values_list("name", flat=True))
    after = sorted(set(roles))
    staff = Role.ADMIN in roles
    if before == after and user.is_staff == staff:
        return user
    user.groups.set(groups)
    changes: dict = {"roles": [before, after]} if before != after else {}
    if user.is_staff != staff:
        changes["is_staff"] = [user.is_staff, staff]
        user.is_staff = staff
        user.save(update_fields=["is_staff"])
    added, removed = sorted(set(after) - set(before)), sorted(set(before) - set(after))
    system, origin = _role_event_origin(actor, source)
    audit_record(
        action="user.roles_changed",
        actor=actor,
        system=system,
        obj=user,
        changes=changes,
        context={**origin, **({"added": added} if added else {}), **({"removed": removed} if removed else {})},
    )
    return user


@transaction.atomic
def user_set_superuser(*, user, is_superuser: bool, actor: Actor = None, source: str = ROLE_SOURCE_LOCAL):
    """A superuser passes every permission check: granting or taking it is an event of its own."""
    _refuse_local_role_edit(user, source)
    user = _locked(user)
    if user.is_superuser == is_superuser:
        return user
    user.is_superuser = is_superuser
    user.save(update_fields=["is_superuser"])
    system, origin = _role_event_origin(actor, source)
    audit_record(
        action="user.superuser_grant" if is_superuser else "user.superuser_revoke",
        actor=actor,
        system=system,
        obj=user,
        changes={"is_superuser": [not is_superuser, is_superuser]},
        context={"username": user.username, **origin},
    )
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


def _revoke(token: ApiToken, *, actor: Actor, reason: str) -> bool:
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
def token_revoke(*, token: ApiToken, actor: Actor, reason: str = "") -> ApiToken:
    """Revoke one token (idempotent: a second revoke records nothing)."""
    token = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
    _revoke(token, actor=actor, reason=reason)
    return token


@transaction.atomic
def user_tokens_revoke(*, user, actor: Actor = None, reason: str) -> int:
    """Revoke every token of ``user`` still unrevoked; returns how many, each one audited."""
    tokens = ApiToken.objects.select_for_update().select_related("user").filter(user=user, revoked_at__isnull=True)
    return sum(_revoke(token, actor=actor, reason=reason) for token in tokens)


@transaction.atomic
def user_set_active(*, user, is_active: bool, actor: Actor = None):
    """Activate or deactivate; a deactivated user's API tokens are revoked with it."""
    user = _locked(user)
    if user.is_active == is_active:
        return user
    user.is_active = is_active
    user.save(update_fields=["is_active"])
    audit_record(
        action="user.activate" if is_active else "user.deactivate",
        actor=actor,
        system=_system(actor),
        obj=user,
        changes={"is_active": [not is_active, is_active]},
        context={"username": user.username},
    )
    if not is_active:
        user_tokens_revoke(user=user, actor=actor, reason="user deactivated")
    return user


@transaction.atomic
def user_set_password(*, user, password: str | None, actor: Actor = None):
    """Set a password under the validators, or switch password login off (``None``).

    Either way whoever held an API token must log in again, so every token is revoked.
    """
    if password is not None:
        try:
            validate_password(password, user=user)
        except ValidationError as error:
            raise InvalidInput("The password was refused.", field_errors={"password": list(error.messages)}) from error
    locked = _locked(user)
    if password is None:
        locked.set_unusable_password()
    else:
        locked.set_password(password)
    with audited_write():
        locked.save(update_fields=["password"])
    audit_record(
        action="user.password_change",
        actor=actor,
        system=_system(actor),
        obj=locked,
        context={"username": locked.username, "password_login": password is not None},
    )
    user_tokens_revoke(user=locked, actor=actor, reason="password changed")
    user.password = locked.password  # the caller's instance (a session hash update) sees the new hash
    return locked
