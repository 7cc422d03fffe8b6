from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "fmgov.evidence"
    label = "evidence"
    verbose_name = "Evidence files"
