"""Evidence files in the admin: read only; they are written by the upload service, which records the event."""

from django.contrib import admin

from fmgov.core.admin_readonly import ReadOnlyAdmin
from fmgov.evidence.models import Attachment


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "revision",
        "content_type",
        "size",
        "sha256",
        "review",
        "incident",
        "documentation_record",
        "documentation_field",
        "uploaded_by",
        "expires_on",
    ]
    list_filter = ["content_type"]
    search_fields = ["name", "sha256"]
    list_select_related = ["uploaded_by"]
