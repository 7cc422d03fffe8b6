from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "fmgov.registry"
    label = "registry"
