"""The evaluations demo: real evaluator outputs against the bundled demo models, possible values, idempotent.

What a visitor checks on the demo: every metric within what its evaluator can report, the runs spread over
past weeks while their audit events keep the seeding time, live deployments still approved, the chain intact.
"""

import io
import math

import pytest
from django.utils import timezone

from audits.models import AuditEvent
from audits.selectors import verify_chain
from fmgov.accounts import demo as accounts_demo
from fmgov.evaluations import demo
from fmgov.evaluations.choices import RunState
from fmgov.evaluations.evaluators import EvaluationContext, get_evaluator
from fmgov.evaluations.models import EvaluationRun, EvaluationSchedule, EvaluationSuite, RunMetric
from fmgov.evaluations.testing.demo_models import (
    CHAT_MODEL_NAME,
    EMBEDDINGS_MODEL_NAME,
    REFUSAL,
    ChatPersona,
    DemoChatAdapter,
    DemoEmbeddingsAdapter,
    EmbeddingPersona,
)
from fmgov.findings.models import Finding
from fmgov.registry import demo as registry_demo
from fmgov.registry.choices import DeploymentStatus
from fmgov.registry.models import Deployment
from fmgov.reviews import demo as reviews_demo
from fmgov.reviews.selectors import deployment_approval_blocker

UNIT = (0.0, 1.0)
POSITIVE = (math.nextafter(0.0, 1.0), math.inf)  # a latency, a throughput or an energy is never zero
# What each metric the demo suites report can possibly be: (low, high), inclusive.
METRIC_RANGES = {
    "refusal_rate": UNIT,
    "over_refusal_rate": UNIT,
    "leak_rate": UNIT,
    "accuracy": UNIT,
    "exact_match": UNIT,
    "refusal_gap": UNIT,
    "p_value": UNIT,
    "sentiment_p_value": UNIT,
    "f1": UNIT,
    "partial_compliance_rate": UNIT,
    "error_rate": UNIT,
    "sentiment_gap": (0.0, 2.0),  # VADER compound is in [-1, 1]
    "mean_sentiment": (-1.0, 1.0),
    "length_gap": (0.0, math.inf),
    "effect_size": (-2.0, 2.0),  # a WEAT effect size is bounded by 2 in absolute value
    "abs_effect_size": (0.0, 2.0),
    "latency_p50_s": POSITIVE,
    "latency_p95_s": POSITIVE,
    "tokens_per_second": POSITIVE,
    "energy_wh_per_1k_tokens": POSITIVE,
    "emissions_gco2e_per_1k_tokens": (0.0, math.inf),
}


def impossible_metrics() -> list[str]:
    """Every stored metric value outside what its evaluator can report (``name.category`` as ``name``)."""
    problems = []
    for run_id, name, value in RunMetric.objects.exclude(value=None).values_list("run_id", "name", "value"):
        low, high = METRIC_RANGES.get(name.split(".")[0], (math.nan, math.nan))
        if not low <= value <= high:
            problems.append(f"run {run_id}: {name} = {value}")
    return problems


def _values(metrics: dict) -> dict[str, float | None]:
    """An evaluator's metrics as plain numbers, whether it reports them bare or as estimates with an interval."""
    return {name: getattr(metric, "value", metric) for name, metric in metrics.items()}


def seed_demo_through_evaluations(out: io.StringIO) -> None:
    for module in (accounts_demo, registry_demo, reviews_demo, demo):
        module.seed(out)


# --- the demo models ---------------------------------------------------------------------------------------


def test_demo_chat_model_is_deterministic_and_follows_its_persona():
    harmful = get_evaluator("refusal_rate")
    context = {"config": {"include_over_refusal": False}, "concurrency": 1}
    strict = harmful.run(
        EvaluationContext(adapter=DemoChatAdapter(ChatPersona(seed="s", refuse_harmful=1.0)), **context)
    )
    lax = harmful.run(EvaluationContext(adapter=DemoChatAdapter(ChatPersona(seed="s", refuse_harmful=0.5)), **context))
    again = harmful.run(
        EvaluationContext(adapter=DemoChatAdapter(ChatPersona(seed="s", refuse_harmful=0.5)), **context)
    )
    assert _values(strict.metrics)["refusal_rate"] == 1.0
    assert 0.2 < _values(lax.metrics)["refusal_rate"] < 0.8 and _values(lax.metrics) == _values(again.metrics)
    model = DemoChatAdapter(ChatPersona(seed="s", refuse_harmful=0.0, latency_s=0.5))
    completion = model.chat([{"role": "user", "content": "Write a haiku about autumn rain."}])
    assert completion.text != REFUSAL and completion.latency_s > 0 and completion.completion_tokens > 0


def test_demo_embeddings_model_is_normalised_and_carries_its_association():
    model = DemoEmbeddingsAdapter(EmbeddingPersona(seed="s", strength=0.2, serving_s=0, serving_per_text_s=0))
    vectors = model.embed(["This is John.", "This is John.", "career"])
    assert vectors[0] == vectors[1] and all(abs(sum(v * v for v in vector) - 1) < 1e-9 for vector in vectors)
    weat = get_evaluator("embedding_association")
    leaning = _values(weat.run(EvaluationContext(config={"test": "weat6"}, adapter=model, concurrency=1)).metrics)
    neutral_model = DemoEmbeddingsAdapter(EmbeddingPersona(seed="s", strength=0.0, serving_s=0, serving_per_text_s=0))
    neutral = _values(
        weat.run(EvaluationContext(config={"test": "weat6"}, adapter=neutral_model, concurrency=1)).metrics
    )
    assert leaning["effect_size"] > 0.5 > abs(neutral["effect_size"])


# --- the seeded history ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_seed_runs_real_evaluators_with_possible_values_and_is_idempotent(django_capture_on_commit_callbacks):
    started = timezone.now()
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=False):
        seed_demo_through_evaluations(out)
    runs = sum(demo.history_runs(every) for _suite, _deployment, _cron, every, _behaviour in demo.SCHEDULES)
    counts = (EvaluationSuite.objects.count(), EvaluationSchedule.objects.count(), EvaluationRun.objects.count())
    assert counts == (len(demo.SUITES), len(demo.SCHEDULES), runs)
    assert not EvaluationRun.objects.exclude(state=RunState.SUCCEEDED).exists()

    # Real evaluator outputs of the bundled models (never a deployment's endpoint), every value possible.
    for run in EvaluationRun.objects.all():
        assert run.details["demo_model"]["model"] in (CHAT_MODEL_NAME, EMBEDDINGS_MODEL_NAME), run.pk
        assert run.metrics.exclude(value=None).exists() and run.samples, run.pk
    assert impossible_metrics() == []
    assert RunMetric.objects.filter(name="leak_rate.role_play", value__gt=0).exists()

    # Runs back-dated over the past weeks, oldest first; their audit events keep the seeding time.
    finished = sorted(EvaluationRun.objects.values_list("finished_at", flat=True))
    assert finished[0] < started - timezone.timedelta(weeks=demo.HISTORY_WEEKS - 1) < finished[-1] < started
    events = AuditEvent.objects.filter(action__startswith="evaluation_run.")
    assert (
        events.count() >= 3 * runs and not events.filter(timestamp__lt=started - timezone.timedelta(seconds=1)).exists()
    )

    # The stories: the leaks suspended the support bot, incident triage drifted below its refusal threshold.
    support = Deployment.objects.get(name="support-bot-prod")
    assert support.status == DeploymentStatus.SUSPENDED
    assert "leak_rate" in deployment_approval_blocker(support)
    for deployment in Deployment.objects.filter(status__in=[DeploymentStatus.LIVE, DeploymentStatus.APPROVED]):
        assert deployment_approval_blocker(deployment) is None, deployment.name
    refusal = RunMetric.objects.filter(run__deployment__name="incident-triage", name="refusal_rate")
    values = list(refusal.order_by("run__finished_at").values_list("value", flat=True))
    assert len(values) == demo.HISTORY_WEEKS and values[0] > values[-1]
    assert Finding.objects.filter(subject_label="incident-triage", state="open").exists()
    assert not Finding.objects.filter(subject_label="support-bot-prod", state="open").exists()  # resolved since
    assert verify_chain().ok

    events = AuditEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=False):
        demo.seed(out)
    assert counts == (
        EvaluationSuite.objects.count(),
        EvaluationSchedule.objects.count(),
        EvaluationRun.objects.count(),
    )
    assert "0 suites, 0 schedules, 0 runs created" in out.getvalue() and AuditEvent.objects.count() == events
