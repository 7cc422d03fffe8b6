from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "fmgov.core"
    label = "core"
    verbose_name = "fmgov core"

    def ready(self) -> None:
        from fmgov.core.schedules import ensure_builtin_schedules

        post_migrate.connect(ensure_builtin_schedules, sender=self, dispatch_uid="fmgov-builtin-schedules")
