"""Demo data: each app's ``demo.py`` registers its seeding function here; ``seed_demo`` runs them.

Django's ``autodiscover_modules("demo")`` imports every installed app's ``demo``
module; an app without demo data simply has none. Seeders run in
``INSTALLED_APPS`` order, which is the dependency order: users before models,
models before reviews, reviews before evaluations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.utils.module_loading import autodiscover_modules

__all__ = ["register_demo", "demo_seeders"]

Seeder = Callable[[Any], None]

_seeders: dict[str, Seeder] = {}


def register_demo(seed: Seeder) -> Seeder:
    """Register an app's ``seed(stdout)``; keyed by its module, so a re-import does not run it twice."""
    _seeders[seed.__module__] = seed
    return seed


def demo_seeders() -> list[Seeder]:
    """Every app's seeder, in ``INSTALLED_APPS`` order."""
    autodiscover_modules("demo")
    order = [config.name for config in apps.get_app_configs()]

    def rank(module: str) -> int:
        owners = [i for i, name in enumerate(order) if module == name or module.startswith(name + ".")]
        return max(owners, key=lambda i: len(order[i]), default=len(order))

    return [_seeders[module] for module in sorted(_seeders, key=rank)]
