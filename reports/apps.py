from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Audit reports"

    def ready(self) -> None:
        from fmgov.core.schedules import BuiltinSchedule, register_builtin_schedule

        register_builtin_schedule(
            BuiltinSchedule(
                name="Re-queue or fail audit reports whose worker died",
                task="reports.tasks.sweep_stuck_reports",
                every_minutes=5,
                queue="reports",
            )
        )
