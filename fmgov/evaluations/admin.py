"""Django admin: rows are shown read-only; changes go through the services, which record audit events.

Schedules are the exception: an admin edits ``cron`` and ``enabled`` here and
``schedule_update`` keeps the django-celery-beat periodic task in step. Runs
can be cancelled and findings acknowledged from list actions.
"""

from django.contrib import admin, messages

from fmgov.core.admin_readonly import ReadOnlyAdmin
from fmgov.core.exceptions import DomainError
from fmgov.evaluations import services
from fmgov.evaluations.models import (
    EvaluationRun,
    EvaluationSchedule,
    EvaluationSuite,
    EvidenceLink,
    RunMetric,
    SuiteRequirement,
)


@admin.register(EvaluationSuite)
class EvaluationSuiteAdmin(ReadOnlyAdmin):
    list_display = ["name", "evaluator", "concurrency", "owner", "updated_at"]
    list_filter = ["evaluator"]
    search_fields = ["name", "description"]


@admin.register(EvaluationSchedule)
class EvaluationScheduleAdmin(admin.ModelAdmin):
    list_display = ["suite", "deployment", "cron", "enabled", "periodic_task"]
    list_filter = ["enabled"]
    fields = ["suite", "deployment", "cron", "enabled", "periodic_task", "owner"]
    readonly_fields = ["suite", "deployment", "periodic_task", "owner"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        try:
            services.schedule_update(schedule=obj, actor=request.user, cron=obj.cron, enabled=obj.enabled)
        except DomainError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)


class RunMetricInline(admin.TabularInline):
    model = RunMetric
    fields = ["name", "value", "threshold", "passed", "higher_is_better"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(EvaluationRun)
class EvaluationRunAdmin(ReadOnlyAdmin):
    list_display = ["id", "suite", "deployment", "state", "progress", "passed", "attempts", "started_at", "finished_at"]
    list_filter = ["state", "evaluator", "passed"]
    search_fields = ["suite__name", "deployment__name", "error"]
    inlines = [RunMetricInline]
    actions = ["cancel_runs"]

    @admin.action(description="Cancel the selected runs")
    def cancel_runs(self, request, queryset):
        done = 0
        for run in queryset:
            try:
                services.run_cancel(run=run, actor=request.user)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"Run {run.pk}: {exc.message}", level=messages.WARNING)
        self.message_user(request, f"{done} run(s) cancelled.")


@admin.register(SuiteRequirement)
class SuiteRequirementAdmin(ReadOnlyAdmin):
    list_display = ["policy", "suite", "max_age_days"]


@admin.register(EvidenceLink)
class EvidenceLinkAdmin(ReadOnlyAdmin):
    list_display = ["review_item", "run", "finding", "created_by", "created_at"]
