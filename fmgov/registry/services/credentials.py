"""Writes to endpoint credentials: admins register, re-scope, rotate and deactivate them.

The audit event of each change records what an auditor needs (source kind,
variable name, hosts, "value rotated") and never the value, its ciphertext or
any fingerprint of it: the trail is read by roles that must not learn it.
"""

import ipaddress
import re
from typing import Any

from django.db import transaction

from audits.services import audit_record, created, diff
from fmgov.core.actors import Actor
from fmgov.core.exceptions import InvalidInput
from fmgov.registry.choices import CredentialSource
from fmgov.registry.credential_store import CredentialUnavailable, seal
from fmgov.registry.models import EndpointCredential
from fmgov.registry.services._common import _deactivate, _ensure_admin, _full_clean

__all__ = [
    "CREDENTIAL_FIELDS",
    "CREDENTIAL_AUDIT_FIELDS",
    "normalise_hosts",
    "endpoint_credential_create",
    "endpoint_credential_update",
    "endpoint_credential_deactivate",
]

#: What an admin writes on a credential (create); ``value`` is write-only.
CREDENTIAL_FIELDS = ("name", "source", "env_var", "value", "allowed_hosts")

# What an audit event may show of a credential; ``sealed_value`` is never among them.
CREDENTIAL_AUDIT_FIELDS = ("name", "source", "env_var", "allowed_hosts", "active")
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
MAX_VALUE_LENGTH = 8192


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]") if host.startswith("[") else host)
        return not (":" in host and not host.startswith("["))
    except ValueError:
        pass
    return len(host) <= 253 and all(_HOST_LABEL.match(label) for label in host.split("."))


def normalise_hosts(value: Any) -> list[str]:
    """``host`` or ``host:port`` entries (IPv6 in brackets), lower-cased, de-duplicated, in order."""
    if not isinstance(value, list | tuple) or not value:
        raise InvalidInput(
            "Give at least one host.", field_errors={"allowed_hosts": ["List the hosts (host or host:port)."]}
        )
    hosts: list[str] = []
    for entry in value:
        text = str(entry).strip().lower()
        host, port = text, ""
        match = re.fullmatch(r"(\[[0-9a-f:.]+\]|[^:\[\]]+)(?::(\d{1,5}))?", text)
        if match:
            host, port = match.group(1), match.group(2) or ""
        if not match or not _valid_host(host) or (port and not 0 < int(port) < 65536):
            message = f"{str(entry)[:100]!r} is not a host or host:port."
            raise InvalidInput(message, field_errors={"allowed_hosts": [message]})
        if text not in hosts:
            hosts.append(text)
    return hosts


def _audit_view(credential: EndpointCredential) -> dict[str, Any]:
    return {field: getattr(credential, field) for field in CREDENTIAL_AUDIT_FIELDS}


def _seal(credential: EndpointCredential, value: str) -> None:
    if not value:
        message = "A sealed credential needs its value."
        raise InvalidInput(message, field_errors={"value": [message]})
    if len(value) > MAX_VALUE_LENGTH or any(ch in value for ch in "\r\n\0"):
        message = f"A credential value is one line of at most {MAX_VALUE_LENGTH} characters."
        raise InvalidInput(message, field_errors={"value": [message]})
    try:
        credential.sealed_value = seal(value, name=credential.name)
    except CredentialUnavailable as exc:
        raise InvalidInput(str(exc), field_errors={"value": [str(exc)]})


def _check_source(credential: EndpointCredential, value: str) -> None:
    if credential.source == CredentialSource.ENV:
        if not credential.env_var:
            message = "An environment credential names its FMGOV_CREDENTIAL_* variable."
            raise InvalidInput(message, field_errors={"env_var": [message]})
        if value:
            message = "An environment credential takes no value: the workers read it from the variable."
            raise InvalidInput(message, field_errors={"value": [message]})
        credential.sealed_value = ""
    elif credential.env_var:
        message = "A sealed credential names no environment variable."
        raise InvalidInput(message, field_errors={"env_var": [message]})


@transaction.atomic
def endpoint_credential_create(
    *,
    actor: Actor,
    name: str,
    source: str,
    allowed_hosts: list[str],
    env_var: str = "",
    value: str = "",
    system: str = "",
) -> EndpointCredential:
    """Register a credential; a sealed value is encrypted here, before anything is stored."""
    _ensure_admin(actor, "endpoint credentials")
    credential = EndpointCredential(
        name=name, source=source, env_var=env_var, allowed_hosts=normalise_hosts(allowed_hosts), created_by=actor
    )
    _full_clean(credential, exclude=["sealed_value", "created_by"])
    _check_source(credential, value)
    if credential.source == CredentialSource.SEALED:
        _seal(credential, value)
    credential.save()
    after = _audit_view(credential)
    if credential.source == CredentialSource.SEALED:
        after["value"] = "set"
    audit_record(action="credential.create", actor=actor, system=system, obj=credential, changes=created(after))
    return credential


@transaction.atomic
def endpoint_credential_update(
    *,
    credential: EndpointCredential,
    actor: Actor,
    allowed_hosts: list[str] | None = None,
    env_var: str | None = None,
    value: str | None = None,
) -> EndpointCredential:
    """Change the hosts, the variable of an env credential, or rotate a sealed value."""
    _ensure_admin(actor, "endpoint credentials")
    obj = EndpointCredential.objects.select_for_update().get(pk=credential.pk)
    before = _audit_view(obj)
    if allowed_hosts is not None:
        obj.allowed_hosts = normalise_hosts(allowed_hosts)
    if env_var is not None:
        obj.env_var = env_var
    _full_clean(obj, exclude=["sealed_value", "created_by"])
    rotated = bool(value)
    if obj.source == CredentialSource.SEALED:
        if env_var:
            _check_source(obj, "")
        if rotated:
            _seal(obj, value)
    else:
        _check_source(obj, value or "")
    after = _audit_view(obj)
    changed = {k for k in after if before[k] != after[k]}
    if not changed and not rotated:
        return obj
    obj.save()
    audit_record(
        action="credential.update",
        actor=actor,
        obj=obj,
        changes=diff(before, after),
        context={"value_rotated": True} if rotated else None,
    )
    return obj


@transaction.atomic
def endpoint_credential_deactivate(*, credential: EndpointCredential, actor: Actor) -> EndpointCredential:
    """Stop every worker from using the credential; deployments naming it cannot run until re-pointed."""
    _ensure_admin(actor, "endpoint credentials")
    return _deactivate(EndpointCredential, credential.pk, actor=actor, action="credential.deactivate")
