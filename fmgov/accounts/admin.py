"""Admin for users and API tokens: changes made here are attributed to the admin who made them."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from fmgov.accounts.models import ApiToken
from fmgov.accounts.services import token_revoke

User = get_user_model()


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "name", "created_at", "expires_at", "revoked_at"]
    readonly_fields = ["user", "key_hash", "prefix", "created_at", "expires_at", "revoked_at", "last_used_at"]
    search_fields = ["user__username", "prefix", "name"]
    actions = ["revoke_selected"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke_selected(self, request, queryset) -> None:
        for token in queryset:
            token_revoke(token=token, actor=request.user, reason="revoked in the admin")
        messages.success(request, f"{queryset.count()} token(s) revoked.")


admin.site.unregister(User)


@admin.register(User)
class FmgovUserAdmin(UserAdmin):
    """Django's user admin; the acting admin rides on the user object into the save signals.

    The signals (fmgov.accounts.signals) audit role changes, password changes and
    deactivations, and revoke API tokens, through fmgov.accounts.services.
    """

    def get_object(self, request, object_id, from_field=None):
        # Used by the change form and by the password-change form alike.
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            obj._fmgov_actor = request.user
        return obj

    def save_model(self, request, obj, form, change) -> None:
        obj._fmgov_actor = request.user
        super().save_model(request, obj, form, change)
