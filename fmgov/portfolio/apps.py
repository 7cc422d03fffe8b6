from django.apps import AppConfig


class PortfolioConfig(AppConfig):
    name = "fmgov.portfolio"
    label = "portfolio"
    verbose_name = "Portfolio risks"

    def ready(self) -> None:
        from fmgov.core.schedules import BuiltinSchedule, register_builtin_schedule

        register_builtin_schedule(
            BuiltinSchedule(
                name="Check portfolio concentration and single points of failure",
                task="fmgov.portfolio.tasks.check_portfolio",
                crontab="30 6 * * *",
            )
        )
