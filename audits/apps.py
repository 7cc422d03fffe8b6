from django.apps import AppConfig


class AuditsConfig(AppConfig):
    name = "audits"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from django.conf import settings

        from audits import celery_signals, signals  # noqa: F401
        from fmgov.core.schedules import BuiltinSchedule, register_builtin_schedule

        register_builtin_schedule(
            BuiltinSchedule(
                name="Sign an audit-trail checkpoint",
                task="audits.tasks.checkpoint_audit_trail",
                every_minutes=settings.AUDIT_CHECKPOINT_EVERY_MINUTES,
            )
        )
        register_builtin_schedule(
            BuiltinSchedule(
                name="Check the audit trail exactly, columns included",
                task="audits.tasks.check_audit_trail_exactly",
                crontab="17 3 * * *",
            )
        )
