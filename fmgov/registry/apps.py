from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "fmgov.registry"
    label = "registry"

    def ready(self) -> None:
        from fmgov.registry import (
            hooks,  # noqa: F401  (declares the hooks that apps above answer)
            lineage,  # noqa: F401  (its models, in lineage.models, kept beside their maintenance)
        )
