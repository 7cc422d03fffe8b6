from django.apps import AppConfig


class EvaluationsConfig(AppConfig):
    name = "fmgov.evaluations"
    label = "evaluations"
