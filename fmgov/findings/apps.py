from django.apps import AppConfig


class FindingsConfig(AppConfig):
    name = "fmgov.findings"
    label = "findings"
    verbose_name = "Findings"
