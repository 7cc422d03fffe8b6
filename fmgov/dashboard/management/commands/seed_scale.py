"""``manage.py seed_scale``: a large registry for the benchmarks (issue 18); size flags make it tiny for tests."""

import time

from django.core.management.base import BaseCommand, CommandError

from fmgov.dashboard.scale import Sizes, seed_scale


class Command(BaseCommand):
    help = (
        "Bulk-insert a large registry for measurement: models, an adaptation DAG with fan-in, deployments, "
        "reviews with sign-offs, evaluation runs with metrics and audit events that still verify."
    )

    def add_arguments(self, parser):
        defaults = Sizes()
        for name in ("models", "adaptations", "depth", "deployments", "reviews", "runs", "events"):
            parser.add_argument(f"--{name}", type=int, default=getattr(defaults, name))
        parser.add_argument("--prefix", default="scale", help="name prefix, so a second run does not collide")
        parser.add_argument("--seed", type=int, default=18)

    def handle(self, *args, **options):
        sizes = Sizes(**{name: options[name] for name in Sizes.__dataclass_fields__})
        if min(sizes.models, sizes.depth) < 1 or min(sizes.adaptations, sizes.deployments) < 0:
            raise CommandError("--models and --depth must be at least 1; no size may be negative.")
        if sizes.deployments < 1 and (sizes.reviews or sizes.runs):
            raise CommandError("Reviews and runs need at least one deployment.")
        if sizes.events and not (sizes.deployments or sizes.adaptations):
            raise CommandError("Audit events need at least one deployment or adaptation to be about.")
        start = time.perf_counter()
        seed_scale(sizes, seed=options["seed"], prefix=options["prefix"], say=self.stdout.write)
        self.stdout.write(self.style.SUCCESS(f"seed_scale done in {time.perf_counter() - start:.1f}s"))
