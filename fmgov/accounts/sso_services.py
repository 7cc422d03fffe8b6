"""Signing a user in from verified OpenID Connect claims: find or create the user, apply the provider's roles.

Called by the authentication backend (``fmgov.accounts.oidc``) once the ID token's signature, issuer, audience,
expiry and nonce have been verified. Users are found by (issuer, subject) only, never by e-mail or username, so
an identity-provider account can never take over a local one. The provider is the source of an SSO user's roles:
they are applied at every sign-in through the accounts services, audited only when they change.
"""

import hashlib
import re
import unicodedata

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from audits.services import audit_record, created
from fmgov.accounts.models import SsoIdentity
from fmgov.accounts.services import (
    ROLE_SOURCE_SSO,
    user_create,
    user_set_roles,
    user_set_superuser,
    user_update,
)
from fmgov.accounts.sso_config import groups_from_claims, provider_name, roles_for_groups
from fmgov.core.exceptions import NotAllowed
from fmgov.core.roles import Role

__all__ = ["SsoRefused", "sso_refusal_record", "sso_sign_in"]

User = get_user_model()
USERNAME_UNSAFE = re.compile(r"[^\w.@+-]")
SUBJECT_MAX = SsoIdentity._meta.get_field("subject").max_length


class SsoRefused(NotAllowed):
    """The identity provider vouched for someone fmgov will not sign in; ``message`` says why, to them."""


def _text_claim(claims: dict, name: str, limit: int) -> str:
    value = claims.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _email(claims: dict) -> str:
    email = _text_claim(claims, "email", 254)
    try:
        validate_email(email)
    except ValidationError:
        return ""
    return email


def _username(*, issuer: str, subject: str, claims: dict, claim: str) -> str:
    """The configured claim (then the e-mail) made safe for a Django username, else a name derived from the subject.

    Only ASCII after NFKC: a look-alike ("\u0430dmin" with a Cyrillic a, full-width letters) would otherwise be a
    new account whose name reads as an existing one's in the audit trail and on every page.
    """
    for name in (claim, "email"):
        text = unicodedata.normalize("NFKC", _text_claim(claims, name, 150))
        candidate = USERNAME_UNSAFE.sub("", text) if text.isascii() else ""
        if candidate:
            return candidate
    return "sso-" + hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()[:16]


def _create(*, issuer: str, subject: str, claims: dict, username_claim: str) -> SsoIdentity:
    username = _username(issuer=issuer, subject=subject, claims=claims, claim=username_claim)
    if User.objects.filter(username__iexact=username).exists():
        raise SsoRefused(
            f"An fmgov account named {username!r} already exists and is not linked to {provider_name()}. "
            "Ask an admin to rename the local account; it is never taken over by a sign-in."
        )
    user = user_create(username=username, roles=[], email=_email(claims))
    identity = SsoIdentity.objects.create(user=user, issuer=issuer, subject=subject)
    audit_record(
        action="user.sso_link",
        system="sso",
        obj=user,
        changes=created({"issuer": issuer, "subject": subject}),
        context={"username": username, "provider": provider_name()},
    )
    return identity


def _sync_profile(user, claims: dict) -> None:
    """E-mail and names follow the provider; each change is a ``user.update`` event, none when nothing changed."""
    wanted = {
        "email": _email(claims),
        "first_name": _text_claim(claims, "given_name", 150),
        "last_name": _text_claim(claims, "family_name", 150),
    }
    fields = {name: value for name, value in wanted.items() if value and value != getattr(user, name)}
    if fields:
        user_update(user=user, actor=None, **fields)


@transaction.atomic
def sso_sign_in(*, issuer: str, claims: dict, username_claim: str = "preferred_username"):
    """The user the verified ``claims`` name, created on first sign-in, holding exactly the roles their groups map to.

    Unmapped groups give no role; superuser follows an explicit mapping to admin and nothing else.
    """
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > SUBJECT_MAX:
        raise SsoRefused("The identity provider sent no usable subject (sub) for this account.")
    identity = (
        SsoIdentity.objects.select_for_update().select_related("user").filter(issuer=issuer, subject=subject).first()
    )
    if identity is None:
        try:
            with transaction.atomic():
                identity = _create(issuer=issuer, subject=subject, claims=claims, username_claim=username_claim)
        except IntegrityError as exc:  # the same first sign-in, twice at once
            raise SsoRefused("This account's first sign-in is already under way; try again.") from exc
    user = identity.user
    if not user.is_active:
        raise SsoRefused("This fmgov account is deactivated; ask an admin.")
    groups = groups_from_claims(claims)
    roles = roles_for_groups(groups)
    _sync_profile(user, claims)
    user_set_roles(user=user, roles=roles, source=ROLE_SOURCE_SSO)
    user_set_superuser(user=user, is_superuser=Role.ADMIN in roles, source=ROLE_SOURCE_SSO)
    identity.groups = groups
    identity.last_login_at = timezone.now()
    identity.save(update_fields=["groups", "last_login_at"])
    user.refresh_from_db()
    return user


@transaction.atomic
def sso_refusal_record(*, reason: str, ip: str | None) -> None:
    """A refused single sign-on (tampered token, replayed state, unknown account...) leaves a trace in the trail.

    Not a ``user_login_failed`` signal: django-axes would count it against a username-less client address and lock
    out everyone behind the same proxy.
    """
    audit_record(
        action="auth.sso_refused",
        system="sso",
        object_type="auth.user",
        object_repr=provider_name(),
        context={"reason": reason[:300], "ip": ip},
    )
