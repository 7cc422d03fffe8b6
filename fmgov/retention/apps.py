from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "fmgov.retention"
    label = "retention"
    verbose_name = "Record retention"

    def ready(self) -> None:
        from django.core import checks

        from fmgov.retention.conf import check_retention_settings

        checks.register(check_retention_settings)
