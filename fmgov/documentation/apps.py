from django.apps import AppConfig


class DocumentationConfig(AppConfig):
    name = "fmgov.documentation"
    label = "documentation"
    verbose_name = "Model documentation (EU AI Act)"

    def ready(self) -> None:
        from fmgov.core.schedules import BuiltinSchedule, register_builtin_schedule

        register_builtin_schedule(
            BuiltinSchedule(
                name="Model documentation: findings for deployed models with required fields missing",
                task="fmgov.documentation.tasks.documentation_obligations",
                crontab="40 3 * * *",
            )
        )
