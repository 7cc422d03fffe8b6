from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "fmgov.reviews"
    label = "reviews"
    verbose_name = "Risk reviews"

    def ready(self) -> None:
        from fmgov.core.schedules import BuiltinSchedule, register_builtin_schedule

        register_builtin_schedule(
            BuiltinSchedule(
                name="Expire risk reviews and warn owners of expiring approvals",
                task="fmgov.reviews.tasks.expire_reviews",
                crontab="10 3 * * *",
            )
        )
