"""The four roles. A role is a Django group; a user may hold several."""

from django.db import models

__all__ = ["Role", "user_roles", "has_role"]


class Role(models.TextChoices):
    ENGINEER = "engineer", "Engineer"
    REVIEWER = "reviewer", "Reviewer"
    AUDITOR = "auditor", "Auditor"
    ADMIN = "admin", "Admin"


def user_roles(user) -> set[str]:
    """Role names of a user, cached on the instance for the request."""
    if user is None or not user.is_authenticated:
        return set()
    cached = getattr(user, "_fmgov_roles", None)
    if cached is None:
        cached = set(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
        if user.is_superuser:
            cached.add(Role.ADMIN)
        user._fmgov_roles = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))
