"""The registry's seeded rows: models, an adaptation DAG, deployments, reviews with sign-offs, runs with metrics."""

import datetime as dt
import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.utils import timezone

from fmgov.accounts.services import user_create
from fmgov.dashboard.scale.tables import _reserve_ids, _Table
from fmgov.evaluations.choices import RunState
from fmgov.evaluations.models import EvaluationRun, EvaluationSuite, RunMetric
from fmgov.registry.models import Adaptation, AdaptationParent, Deployment, FoundationModel
from fmgov.reviews.choices import Decision, ReviewState
from fmgov.reviews.models import ReviewPolicy, RiskReview, SignOff

PROVIDERS = ("OpenAI", "Anthropic", "Meta", "Mistral AI", "Google", "Alibaba")
ENVIRONMENTS = ("production", "staging", "dev")


@dataclass(frozen=True)
class Sizes:
    models: int = 20
    adaptations: int = 100_000
    depth: int = 50
    deployments: int = 10_000
    reviews: int = 2_000
    runs: int = 100_000
    events: int = 1_000_000


def _stamps(count: int) -> Iterator[dt.datetime]:
    """Distinct creation times, one microsecond apart in id order, as rows created one after another have."""
    start, step = timezone.now(), dt.timedelta(microseconds=1)
    return (start + step * i for i in range(count))


def _users(prefix: str) -> dict[str, list]:
    """A few real users (through the accounts service, audited) to own and sign things."""
    model = get_user_model()
    people: dict[str, list] = {"engineer": [], "reviewer": [], "auditor": []}
    for role, count in (("engineer", 8), ("reviewer", 4), ("auditor", 1)):
        for i in range(count):
            name = f"{prefix}-{role}-{i}"
            existing = model.objects.filter(username=name).first()
            people[role].append(existing or user_create(username=name, roles=[role], password=None))
    return people


def _dag(sizes: Sizes, rng: random.Random, owners: list[int], prefix: str) -> tuple[list[int], list[int]]:
    """Models and a DAG of adaptations, level by level, a tenth of them with a second parent up to 3 levels up."""
    models_table = _Table(
        FoundationModel, ("id", "name", "provider", "owner_id"), version="1", modality="text", access="api"
    )
    model_ids = _reserve_ids(FoundationModel, sizes.models)
    models_table.load(
        (pk, f"{prefix}-model-{i}", PROVIDERS[i % len(PROVIDERS)], owners[i % len(owners)])
        for i, pk in enumerate(model_ids)
    )
    ids = _reserve_ids(Adaptation, sizes.adaptations)
    depth = max(1, min(sizes.depth, sizes.adaptations))
    levels: list[list[int]] = []
    edges: list[tuple[int, int | None, int | None]] = []  # (child, parent model, parent adaptation)
    for level in range(depth):
        start = sum(len(level_ids) for level_ids in levels)
        size = sizes.adaptations // depth + (1 if level < sizes.adaptations % depth else 0)
        levels.append(ids[start : start + size])
        for child in levels[-1]:
            if level == 0:
                edges.append((child, rng.choice(model_ids), None))
                continue
            first = rng.choice(levels[level - 1])
            edges.append((child, None, first))
            if rng.random() < 0.1:
                other = rng.choice(levels[level - rng.randint(1, min(3, level))])
                if other != first:
                    edges.append((child, None, other))
    stamps = _stamps(len(ids))
    _Table(Adaptation, ("id", "name", "owner_id", "created_at", "updated_at"), kind="fine_tune").load(
        (pk, f"{prefix}-a{i}", owners[i % len(owners)], stamp, stamp)
        for (i, pk), stamp in zip(enumerate(ids), stamps, strict=True)
    )
    _Table(AdaptationParent, ("child_id", "parent_model_id", "parent_adaptation_id")).load(edges)
    return model_ids, ids


def _deployments(
    sizes: Sizes, rng: random.Random, owners: list[int], model_ids: list[int], adaptations: list[int], prefix: str
) -> list[int]:
    now = timezone.now()
    ids = _reserve_ids(Deployment, sizes.deployments)
    columns = ("id", "name", "environment", "status", "owner_id", "went_live_at", "expected_requests_per_day")
    columns += ("foundation_model_id", "adaptation_id", "created_at", "updated_at")
    table = _Table(Deployment, columns, expected_tokens_per_request=500)
    rows = []
    for (i, pk), stamp in zip(enumerate(ids), _stamps(len(ids)), strict=True):
        on_model = i % 10 == 0 or not adaptations
        target = (rng.choice(model_ids), None) if on_model else (None, rng.choice(adaptations))
        went_live = now - dt.timedelta(days=i % 300) if i % 5 else None
        status = "live" if i % 5 else "approved"
        rows.append((pk, f"{prefix}-d{i}", ENVIRONMENTS[i % 3], status, owners[i % len(owners)], went_live, 1000 + i))
        rows[-1] += (*target, stamp, stamp)
    table.load(rows)
    return ids


def _reviews(sizes: Sizes, deployments: list[int], people: dict[str, list]) -> int:
    policy, _ = ReviewPolicy.objects.get_or_create(name="seed-scale policy", defaults={"quorum": 2})
    now = timezone.now()
    engineers = [user.pk for user in people["engineer"]]
    reviewers = [user.pk for user in people["reviewer"]]
    ids = _reserve_ids(RiskReview, min(sizes.reviews, len(deployments)))
    hashes = [hashlib.sha256(f"review {i}".encode()).hexdigest() for i in range(len(ids))]
    columns = ("id", "deployment_id", "title", "content_hash", "created_by_id", "submitted_by_id")
    constant = {"submitted_at": now, "decided_at": now, "approved_at": now, "expires_at": now + dt.timedelta(days=365)}
    reviews = _Table(
        RiskReview,
        columns + ("created_at", "updated_at"),
        policy_id=policy.pk,
        state=ReviewState.APPROVED,
        submission=1,
        **constant,
    )
    reviews.load(
        (pk, deployments[i % len(deployments)], f"Review {i}", hashes[i], engineers[i % len(engineers)])
        + (engineers[i % len(engineers)], stamp, stamp)
        for (i, pk), stamp in zip(enumerate(ids), _stamps(len(ids)), strict=True)
    )
    scheme = RiskReview._meta.get_field("hash_scheme").get_default()
    sign_offs = _Table(
        SignOff,
        ("review_id", "reviewer_id", "content_hash", "created_at", "updated_at"),
        submission=1,
        decision=Decision.APPROVE,
        hash_scheme=scheme,
    )
    pairs = [(i, pk, k) for i, pk in enumerate(ids) for k in range(2)]
    sign_offs.load(
        (pk, reviewers[(i + k) % len(reviewers)], hashes[i], stamp, stamp)
        for (i, pk, k), stamp in zip(pairs, _stamps(len(pairs)), strict=True)
    )
    return len(ids)


def _runs(sizes: Sizes, deployments: list[int], owner) -> None:
    suite, _ = EvaluationSuite.objects.get_or_create(
        name="seed-scale latency and energy", defaults={"evaluator": "latency_energy", "owner": owner}
    )
    now = timezone.now()
    ago = [now - dt.timedelta(minutes=m) for m in range(10_001)]
    ids = _reserve_ids(EvaluationRun, sizes.runs)
    runs = _Table(
        EvaluationRun,
        ("id", "deployment_id", "started_at", "finished_at", "created_at", "updated_at"),
        suite_id=suite.pk,
        evaluator=suite.evaluator,
        state=RunState.SUCCEEDED,
        progress=100,
        passed=True,
    )
    runs.load(
        (pk, deployments[i % len(deployments)], ago[i % 10_000 + 1], ago[i % 10_000], stamp, stamp)
        for (i, pk), stamp in zip(enumerate(ids), _stamps(len(ids)), strict=True)
    )
    metrics = _Table(RunMetric, ("run_id", "name", "value"), n=20)
    metrics.load(
        (pk, name, value)
        for pk in ids
        for name, value in (("energy_wh_per_1k_tokens", 0.3 + pk % 7 / 10), ("p95_latency_ms", 400.0))
    )
