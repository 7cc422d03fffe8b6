from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "fmgov.incidents"
    label = "incidents"
    verbose_name = "Serious incidents"
