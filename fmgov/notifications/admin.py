from django.contrib import admin

from audits.admin import ReadOnlyAdmin
from fmgov.notifications.models import EmailDelivery


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(ReadOnlyAdmin):
    """Read-only: the record of who was told what, and when."""

    list_display = ["subject", "recipient", "task_name", "sent_at", "attempts", "created_at"]
    list_filter = ["task_name", ("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["recipient", "subject", "key"]
    readonly_fields = [f.name for f in EmailDelivery._meta.fields]
