"""Admin pages that show rows and never change them: those rows change only through services, which record the
audit event (or, for fixed rows such as the role groups, not at all)."""

from django.contrib import admin

__all__ = ["ReadOnlyAdminMixin", "ReadOnlyAdmin"]


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    pass
