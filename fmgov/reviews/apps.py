from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _reseed_after_flush(sender, apps=None, using="default", **kwargs) -> None:
    """A flushed database (``manage.py flush``, transactional tests) gets the taxonomy back.

    Migration 0002 seeds the taxonomy and the default policy once; only an
    empty category table, as left by a flush, is seeded again here, so an
    admin's edits are never overwritten.
    """
    import importlib

    if apps is None:
        from django.apps import apps
    RiskCategory = apps.get_model("reviews", "RiskCategory")
    if RiskCategory.objects.using(using).exists():
        return
    seeding = importlib.import_module("fmgov.reviews.migrations.0002_seed_taxonomy_and_default_policy")
    seeding.seed(apps, None)


class ReviewsConfig(AppConfig):
    name = "fmgov.reviews"
    label = "reviews"
    verbose_name = "Risk reviews"

    def ready(self) -> None:
        from fmgov.registry.hooks import deployment_approval_blocker, deployment_reviews
        from fmgov.reviews import hooks  # noqa: F401  (declares the hooks that apps above answer)
        from fmgov.reviews.selectors import deployment_approval_blocker as approval_blocker
        from fmgov.reviews.selectors import review_list

        deployment_approval_blocker.register(approval_blocker)
        deployment_reviews.register(lambda deployment: list(review_list().filter(deployment=deployment)))
        post_migrate.connect(_reseed_after_flush, sender=self, dispatch_uid="reviews-reseed-after-flush")
        from fmgov.core.schedules import BuiltinSchedule, register_builtin_schedule

        register_builtin_schedule(
            BuiltinSchedule(
                name="Expire risk reviews and warn owners of expiring approvals",
                task="fmgov.reviews.tasks.expire_reviews",
                crontab="10 3 * * *",
            )
        )
        register_builtin_schedule(
            BuiltinSchedule(
                name="Verify that approvals still bind what runs",
                task="fmgov.reviews.tasks.verify_approvals",
                crontab="25 * * * *",
            )
        )
