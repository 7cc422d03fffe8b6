from django.contrib import admin

from fmgov.accounts.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "name", "created_at", "expires_at", "revoked_at"]
    readonly_fields = ["user", "key_hash", "prefix", "created_at", "expires_at", "revoked_at", "last_used_at"]
    search_fields = ["user__username", "prefix", "name"]

    def has_add_permission(self, request):
        return False
