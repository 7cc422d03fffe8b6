"""Helpers for server-rendered views."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from fmgov.core.exceptions import DomainError
from fmgov.core.roles import has_role

__all__ = ["role_required", "show_domain_error"]


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


def show_domain_error(request, exc: DomainError) -> None:
    messages.error(request, exc.message)
