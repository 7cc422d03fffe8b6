"""Documentation in the admin: read-only; records change only through the audited services (API, pages)."""

from django.contrib import admin

from fmgov.core.admin_readonly import ReadOnlyAdmin
from fmgov.documentation.models import DocumentationRecord, DocumentationVersion


@admin.register(DocumentationRecord)
class DocumentationRecordAdmin(ReadOnlyAdmin):
    list_display = ["id", "foundation_model", "adaptation", "role", "systemic_risk", "current_version", "updated_at"]
    list_filter = ["role", "systemic_risk"]
    list_select_related = ["foundation_model", "adaptation", "current_version__record"]


@admin.register(DocumentationVersion)
class DocumentationVersionAdmin(ReadOnlyAdmin):
    list_display = ["id", "record", "number", "role", "author", "created_at", "frozen_at"]
    list_filter = ["role", "frozen_at"]
    list_select_related = ["record__foundation_model", "record__adaptation", "author"]
