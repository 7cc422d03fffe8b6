"""django-celery-beat's admin, wrapped: built-in tasks change only through the audited service, the rest is read-only.

The stock admin edits, adds and deletes PeriodicTask rows and the shared interval
and crontab rows directly, with no event; imported by ``fmgov.accounts.admin``.
"""

from django import forms
from django.contrib import admin
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

from fmgov.accounts.schedules import check_timing, periodic_task_timing, periodic_task_update
from fmgov.core.admin_readonly import ReadOnlyAdmin
from fmgov.core.exceptions import InvalidInput
from fmgov.core.schedules import builtin_schedule

__all__ = ["AuditedPeriodicTaskAdmin"]


class PeriodicTaskForm(forms.ModelForm):
    every_minutes = forms.IntegerField(label="Every (minutes)", required=False, min_value=1)
    cron = forms.CharField(label="Or cron (UTC)", required=False, help_text="minute hour day month weekday")

    class Meta:
        model = PeriodicTask
        fields = ["enabled"]

    def clean(self) -> dict:
        cleaned = super().clean()
        try:
            check_timing(every_minutes=cleaned.get("every_minutes"), cron=cleaned.get("cron"))
        except InvalidInput as refused:
            for field, messages in refused.field_errors.items():
                self.add_error(field, messages)
        return cleaned


class AuditedPeriodicTaskAdmin(admin.ModelAdmin):
    form = PeriodicTaskForm
    list_display = ["name", "task", "enabled", "timing", "last_run_at"]
    readonly_fields = ["name", "task", "timing", "queue", "kwargs", "last_run_at", "total_run_count"]
    fields = ["name", "task", "enabled", "timing", "every_minutes", "cron", "queue", "kwargs", "last_run_at"]

    @admin.display(description="timing")
    def timing(self, obj: PeriodicTask) -> str:
        return periodic_task_timing(obj)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        """Built-in tasks only; an evaluation schedule's row changes with that schedule."""
        if obj is not None and builtin_schedule(obj.name) is None:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        periodic_task_update(
            task=obj,
            actor=request.user,
            enabled=form.cleaned_data["enabled"],
            every_minutes=form.cleaned_data.get("every_minutes"),
            cron=form.cleaned_data.get("cron") or None,
        )


def register() -> None:
    for model in (PeriodicTask, IntervalSchedule, CrontabSchedule, SolarSchedule, ClockedSchedule):
        if admin.site.is_registered(model):
            admin.site.unregister(model)
    admin.site.register(PeriodicTask, AuditedPeriodicTaskAdmin)
    for model in (IntervalSchedule, CrontabSchedule, SolarSchedule, ClockedSchedule):
        admin.site.register(model, ReadOnlyAdmin)
