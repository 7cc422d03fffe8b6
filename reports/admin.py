"""Read-only admin for reports: rows change only through the rendering service."""

from django.contrib import admin

from audits.admin import ReadOnlyAdmin
from reports.models import Report


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "deployment", "period_start", "period_end", "state", "pages", "created_at"]
    list_filter = ["kind", "state"]
    readonly_fields = [f.name for f in Report._meta.fields]
