"""Findings in the admin: read-only, acknowledged through the service so the step is audited."""

from django.contrib import admin, messages

from audits.admin import ReadOnlyAdmin
from fmgov.core.exceptions import DomainError
from fmgov.findings import services
from fmgov.findings.models import Finding


@admin.register(Finding)
class FindingAdmin(ReadOnlyAdmin):
    list_display = ["id", "source", "subject_label", "title", "severity", "state", "opened_at"]
    list_filter = ["source", "state", "severity"]
    search_fields = ["title", "subject_label"]
    actions = ["acknowledge"]

    @admin.action(description="Acknowledge the selected findings")
    def acknowledge(self, request, queryset):
        for finding in queryset:
            try:
                services.finding_acknowledge(finding=finding, actor=request.user, note="Acknowledged in the admin.")
            except DomainError as exc:
                self.message_user(request, f"Finding {finding.pk}: {exc.message}", level=messages.WARNING)
