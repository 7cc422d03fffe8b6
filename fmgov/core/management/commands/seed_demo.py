"""Fill fmgov with realistic demo data. Idempotent: a second run changes nothing."""

from django.core.management.base import BaseCommand

from fmgov.core.seeding import demo_seeders


class Command(BaseCommand):
    help = "Load demo users, models, adaptations, deployments, reviews and evaluation history (idempotent)."

    def handle(self, *args, **options):
        # Each app's demo.py registers ``seed(stdout)`` (fmgov.core.seeding); they run in INSTALLED_APPS order.
        for seed in demo_seeders():
            seed(self.stdout)
        self.stdout.write(self.style.SUCCESS("demo data ready"))
