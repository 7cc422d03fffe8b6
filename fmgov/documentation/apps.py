from django.apps import AppConfig


class DocumentationConfig(AppConfig):
    name = "fmgov.documentation"
    label = "documentation"
    verbose_name = "Model documentation (EU AI Act)"
