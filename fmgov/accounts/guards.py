"""Refuse user writes that would bypass the audited services in ``fmgov.accounts.services``.

Django's own ``manage.py changepassword`` and ``createsuperuser`` save users directly;
they would change who can log in, or make an admin, without an event. These
receivers are refusals, not a source of events: the services record the events and
mark their own writes with ``audited_write()``.
"""

import contextvars
from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import is_password_usable
from django.core.exceptions import PermissionDenied
from django.db.models.signals import pre_save

__all__ = ["audited_write", "connect"]

_inside_service: contextvars.ContextVar[bool] = contextvars.ContextVar("fmgov_accounts_service", default=False)

PASSWORD_REFUSAL = "Passwords change through fmgov's audited services: use `manage.py setpassword USERNAME`."
SUPERUSER_REFUSAL = "Admins are created through fmgov's audited services: use `manage.py adduser NAME --role admin`."


@contextmanager
def audited_write():
    """Mark the user saves in this block as made by a service that records their event."""
    token = _inside_service.set(True)
    try:
        yield
    finally:
        _inside_service.reset(token)


def _password_changed(sender, instance, update_fields) -> bool:
    if update_fields is not None and "password" not in update_fields:
        return False
    # set_password() keeps the raw password in _password until the save; a hash upgrade at login clears it first.
    if getattr(instance, "_password", None) is not None:
        return True
    if instance.has_usable_password():
        return False
    stored = sender._default_manager.filter(pk=instance.pk).values_list("password", flat=True).first()
    return stored is not None and is_password_usable(stored)


def refuse_unaudited_user_writes(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    if raw or _inside_service.get():
        return
    if instance._state.adding or instance.pk is None:
        if instance.is_superuser:
            raise PermissionDenied(SUPERUSER_REFUSAL)
        return
    if _password_changed(sender, instance, update_fields):
        raise PermissionDenied(PASSWORD_REFUSAL)


def connect() -> None:
    pre_save.connect(refuse_unaudited_user_writes, sender=get_user_model(), dispatch_uid="accounts-refuse-unaudited")
