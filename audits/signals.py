"""Logins and failed logins are audit events (Django's auth signals, axes lockouts)."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db import transaction
from django.dispatch import receiver

from audits.services import audit_record
from fmgov.core.client_ip import client_ip


def _request_context(request) -> dict:
    if request is None:
        return {}
    return {"ip": client_ip(request), "user_agent": request.headers.get("User-Agent", "")[:256] or None}


@receiver(user_logged_in, dispatch_uid="audit-login")
def record_login(sender, request, user, **kwargs) -> None:
    with transaction.atomic():
        audit_record(action="auth.login", actor=user, obj=user, context=_request_context(request))


@receiver(user_login_failed, dispatch_uid="audit-login-failed")
def record_login_failed(sender, credentials, request=None, **kwargs) -> None:
    username = str((credentials or {}).get("username", ""))[:150]
    with transaction.atomic():
        audit_record(
            action="auth.login_failed",
            system="auth",
            object_type="auth.user",
            object_repr=username,
            context={**_request_context(request), "username": username},
        )


@receiver(user_locked_out, dispatch_uid="audit-lockout")
def record_lockout(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    with transaction.atomic():
        audit_record(
            action="auth.locked_out",
            system="axes",
            object_type="auth.user",
            object_repr=str(username or "")[:150],
            context={**_request_context(request), "username": username, "ip_address": ip_address},
        )
