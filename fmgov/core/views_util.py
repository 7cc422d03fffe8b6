"""Helpers for server-rendered views."""

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from fmgov.core.exceptions import DomainError
from fmgov.core.roles import has_role
from fmgov.core.views import show_refusal

__all__ = ["role_required", "call_service"]

T = TypeVar("T")
# Where to go: a URL name or path, or a tuple of a URL name and its arguments.
Target = str | tuple


def role_required(*roles: str):
    """Login, then one of the roles; otherwise 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            if not has_role(request.user, *roles):
                raise PermissionDenied("Your role does not allow this page.")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def call_service(
    request: HttpRequest,
    call: Callable[[], T],
    *,
    success: str | Callable[[T], str],
    to: Target | Callable[[T], Target],
    form: forms.BaseForm | None = None,
) -> HttpResponse | None:
    """Call the service, show its refusal, redirect: the one shape of every page that changes something.

    On success the ``success`` message (or ``success(result)``) is shown and the
    user goes to ``to`` (a URL name with its arguments, or ``to(result)``). A
    refusal (``DomainError``) is shown on the form's fields when there is a form,
    and None comes back so the caller renders the form again; without a form it
    is shown as messages and the user goes back to ``to``.
    """
    if form is None and callable(to):
        raise TypeError("Without a form a refusal redirects to `to`, which cannot depend on the result.")
    try:
        result = call()
    except DomainError as exc:
        show_refusal(request, exc, form)
        if form is not None:
            return None
        for errors in exc.field_errors.values():
            for error in errors:
                messages.error(request, error)
        return _redirect(to)
    messages.success(request, success(result) if callable(success) else success)
    return _redirect(to(result) if callable(to) else to)


def _redirect(target: Target) -> HttpResponse:
    return redirect(*target) if isinstance(target, tuple) else redirect(target)
