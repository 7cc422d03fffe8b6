from django.contrib import admin

from fmgov.notifications.models import EmailDelivery


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(admin.ModelAdmin):
    """Read-only: the record of who was told what, and when."""

    list_display = ["subject", "recipient", "task_name", "sent_at", "attempts", "created_at"]
    list_filter = ["task_name", ("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["recipient", "subject", "key"]
    readonly_fields = [f.name for f in EmailDelivery._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
