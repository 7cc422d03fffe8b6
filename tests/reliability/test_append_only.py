"""Append-only models (a run's metrics): written once, never updated or deleted, by any path.

Reports and gates judge runs by their metrics; an edited figure would change a
verdict after the fact with no event. The models are discovered from the app
registry, so a model that later takes the base is covered without touching this file.
"""

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audits.models import AppendOnlyError, AppendOnlyModel, AppendOnlyQuerySet
from fmgov.evaluations.models import EvaluationRun, EvaluationSuite, RunMetric
from fmgov.registry.tests.factories import DeploymentFactory

APPEND_ONLY_MODELS = sorted(
    (m for m in apps.get_models() if issubclass(m, AppendOnlyModel) and not m._meta.abstract),
    key=lambda m: m._meta.label,
)


def test_run_metrics_are_append_only():
    assert "evaluations.RunMetric" in {m._meta.label for m in APPEND_ONLY_MODELS}


@pytest.mark.django_db
@pytest.mark.parametrize("model", APPEND_ONLY_MODELS, ids=lambda m: m._meta.label)
@pytest.mark.parametrize("operation", ["update", "delete", "bulk_update"])
def test_queryset_changes_are_refused(model, operation):
    run = {
        "update": lambda qs: qs.filter(pk=-1).update(pk=-2),
        "delete": lambda qs: qs.filter(pk=-1).delete(),
        "bulk_update": lambda qs: qs.bulk_update([], ["pk"]),
    }[operation]
    for manager in model._meta.managers:
        assert issubclass(manager._queryset_class, AppendOnlyQuerySet), f"{model._meta.label}.{manager.name}"
        with CaptureQueriesContext(connection) as queries, pytest.raises(AppendOnlyError, match="append-only"):
            run(manager.all())
        assert not queries.captured_queries, "a query reached the database before the refusal"


@pytest.fixture
def metric(engineer) -> RunMetric:
    deployment = DeploymentFactory(owner=engineer)
    suite = EvaluationSuite.objects.create(name="acc", evaluator="accuracy", owner=engineer)
    run = EvaluationRun.objects.create(suite=suite, deployment=deployment, evaluator="accuracy", state="succeeded")
    return RunMetric.objects.create(run=run, name="accuracy", value=0.9, passed=True)


@pytest.mark.django_db
def test_a_stored_metric_cannot_be_saved_again_or_deleted(metric):
    metric.value, metric.passed = 1.0, True
    with pytest.raises(AppendOnlyError, match="cannot be changed"):
        metric.save()
    with pytest.raises(AppendOnlyError):
        metric.save(update_fields=["value"])
    with pytest.raises(AppendOnlyError, match="cannot be deleted"):
        metric.delete()
    stored = RunMetric.objects.get(pk=metric.pk)
    assert stored.value == 0.9
