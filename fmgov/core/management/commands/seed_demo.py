"""Fill fmgov with realistic demo data. Idempotent: a second run changes nothing."""

import importlib

from django.core.management.base import BaseCommand

# Each app that has demo data provides ``<app>.demo.seed(stdout) -> None``; order matters.
DEMO_MODULES = [
    "fmgov.accounts.demo",
    "fmgov.registry.demo",
    "fmgov.reviews.demo",
    "fmgov.evaluations.demo",
    "fmgov.portfolio.demo",
    "reports.demo",
]


class Command(BaseCommand):
    help = "Load demo users, models, adaptations, deployments, reviews and evaluation history (idempotent)."

    def handle(self, *args, **options):
        for name in DEMO_MODULES:
            try:
                module = importlib.import_module(name)
            except ModuleNotFoundError as exc:
                if exc.name != name:
                    raise
                continue
            module.seed(self.stdout)
        self.stdout.write(self.style.SUCCESS("demo data ready"))
