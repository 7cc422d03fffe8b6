"""Role-based API permissions.

The matrix: engineers and admins write (engineers their own records), reviewers
and auditors read. Object-level ownership is checked by ``IsOwnerOrAdmin``.
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from fmgov.core.roles import Role, has_role

__all__ = [
    "HasRole",
    "AnyRole",
    "ReadAnyWriteEngineer",
    "ReadAnyWriteNotAuditor",
    "IsOwnerOrAdminForWrites",
    "AuditorOrAdmin",
    "AdminWrites",
    "AdminOnly",
]


class HasRole(BasePermission):
    roles: tuple[str, ...] = ()
    message = "Your role does not allow this."

    def has_permission(self, request, view) -> bool:
        return has_role(request.user, *self.roles)


class AnyRole(HasRole):
    """Any role in fmgov reads and asks; what each role may write is the services' decision."""

    roles = tuple(Role.values)
    message = "Your account holds no role in fmgov; ask an admin for one."


class ReadAnyWriteEngineer(BasePermission):
    """Any role reads; engineers and admins write."""

    message = "Only engineers and admins may change this."

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return has_role(request.user, *Role.values)
        return has_role(request.user, Role.ENGINEER, Role.ADMIN)


class ReadAnyWriteNotAuditor(BasePermission):
    """Any role reads; auditors only read (serious incidents: which one a writer may touch is the services' call)."""

    message = "Auditors only read this; engineers, reviewers and admins write it."

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return has_role(request.user, *Role.values)
        return has_role(request.user, Role.ENGINEER, Role.REVIEWER, Role.ADMIN)


class IsOwnerOrAdminForWrites(BasePermission):
    """Writes on an object only by its owner or an admin."""

    message = "You may only change records you own."
    owner_field = "owner"

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return True
        if has_role(request.user, Role.ADMIN):
            return True
        return getattr(obj, f"{self.owner_field}_id", None) == request.user.pk


class AuditorOrAdmin(HasRole):
    roles = (Role.AUDITOR, Role.ADMIN)
    message = "Only auditors and admins may read the audit trail."


class AdminWrites(BasePermission):
    """Any role reads; only admins write."""

    message = "Only admins may change this."

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return has_role(request.user, *Role.values)
        return has_role(request.user, Role.ADMIN)


class AdminOnly(HasRole):
    """Only admins read or write (endpoint credentials, the local-model allow-list)."""

    roles = (Role.ADMIN,)
    message = "Only admins may do this."
