"""Every audited model refuses bulk writes that would bypass the audit trail.

The models are discovered from the app registry, so a model another app adds
later is covered without touching this file.
"""

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audits.base import AuditedModel, AuditedQuerySet, UnrecordedBulkWrite, bulk_writes_recorded

AUDITED_MODELS = sorted(
    (m for m in apps.get_models() if issubclass(m, AuditedModel) and not m._meta.abstract and not m._meta.proxy),
    key=lambda m: m._meta.label,
)


def test_audited_models_are_discovered():
    labels = {m._meta.label for m in AUDITED_MODELS}
    # The governance core must be among them; a refactor that drops the base class fails here.
    assert {"registry.FoundationModel", "registry.Deployment", "reviews.RiskReview", "reports.Report"} <= labels


def _bulk_operations(model):
    missing_pk = -1
    return {
        "update": lambda qs: qs.filter(pk=missing_pk).update(updated_at=timezone.now()),
        "delete": lambda qs: qs.filter(pk=missing_pk).delete(),
        "bulk_create": lambda qs: qs.bulk_create([]),
        "bulk_update": lambda qs: qs.bulk_update([], ["updated_at"]),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("operation", ["update", "delete", "bulk_create", "bulk_update"])
@pytest.mark.parametrize("model", AUDITED_MODELS, ids=lambda m: m._meta.label)
def test_bulk_write_refused_outside_recorded_block(model, operation):
    run = _bulk_operations(model)[operation]
    # Every manager of the model, not only ``objects``: a second plain manager would be a bypass.
    managers = model._meta.managers
    assert managers, f"{model._meta.label} has no manager"
    for manager in managers:
        assert issubclass(manager._queryset_class, AuditedQuerySet), (
            f"{model._meta.label}.{manager.name} is not an AuditedQuerySet manager; it lets bulk writes through"
        )
        with CaptureQueriesContext(connection) as queries, pytest.raises(UnrecordedBulkWrite, match="audit trail"):
            run(manager.all())
        assert not [q for q in queries.captured_queries if not q["sql"].lstrip().upper().startswith("SELECT")], (
            "a write reached the database before the refusal"
        )


@pytest.mark.django_db
@pytest.mark.parametrize("model", AUDITED_MODELS, ids=lambda m: m._meta.label)
def test_bulk_write_allowed_inside_recorded_block(model):
    operations = _bulk_operations(model)
    with bulk_writes_recorded():
        assert operations["update"](model._default_manager.all()) == 0
        operations["bulk_create"](model._default_manager.all())
        operations["bulk_update"](model._default_manager.all())
    # The permission ends with the block.
    with pytest.raises(UnrecordedBulkWrite):
        operations["update"](model._default_manager.all())
