from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "fmgov.interop"
    label = "interop"
    verbose_name = "Interoperability (CycloneDX ML-BOM)"
