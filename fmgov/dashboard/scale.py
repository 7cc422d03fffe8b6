"""A large, realistic registry for measurement (``manage.py seed_scale``), written with bulk inserts.

It lives in the dashboard app because it fills every app below it. The rows are
measurement data, not governance writes, so they are bulk-inserted inside
``bulk_writes_recorded()``; the audit trail instead gets ``events`` synthetic
events in its current format (canonical bytes, hash chained from the current
head, the head row moved), so ``verify_audit_trail`` still passes afterwards.
The lineage roots are rebuilt once from the edges at the end.
"""

import datetime as dt
import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from audits.base import bulk_writes_recorded
from audits.canonical import canonical_bytes, format_timestamp, stored_form
from audits.models import AuditEvent
from audits.services import lock_chain_head
from fmgov.accounts.services import user_create
from fmgov.evaluations.choices import RunState
from fmgov.evaluations.models import EvaluationRun, EvaluationSuite, RunMetric
from fmgov.registry.lineage import LineageRoot, lineage_rebuild
from fmgov.registry.models import Adaptation, AdaptationParent, Deployment, FoundationModel
from fmgov.reviews.choices import Decision, ReviewState
from fmgov.reviews.models import ReviewPolicy, RiskReview, SignOff

__all__ = ["Sizes", "measured_pages", "seed_scale"]

BATCH = 5000
PROVIDERS = ("OpenAI", "Anthropic", "Meta", "Mistral AI", "Google", "Alibaba")
ENVIRONMENTS = ("production", "staging", "dev")
ACTIONS = ("deployment.update", "review.submit", "signoff.create", "evaluation.run.finish", "adaptation.update")


@dataclass(frozen=True)
class Sizes:
    models: int = 20
    adaptations: int = 100_000
    depth: int = 50
    deployments: int = 10_000
    reviews: int = 2_000
    runs: int = 100_000
    events: int = 1_000_000


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


def _dag(sizes: Sizes, rng: random.Random, owners: list, prefix: str) -> tuple[list[int], list[int]]:
    """Models and a DAG of adaptations, level by level, a tenth of them with a second parent up to 3 levels up."""
    models = FoundationModel.objects.bulk_create(
        FoundationModel(
            name=f"{prefix}-model-{i}",
            version="1",
            provider=PROVIDERS[i % len(PROVIDERS)],
            modality="text",
            access="api",
            owner=owners[i % len(owners)],
        )
        for i in range(sizes.models)
    )
    model_ids = [m.pk for m in models]
    depth = max(1, min(sizes.depth, sizes.adaptations))
    levels: list[list[int]] = []
    for level in range(depth):
        size = sizes.adaptations // depth + (1 if level < sizes.adaptations % depth else 0)
        start = sum(len(ids) for ids in levels)
        created = Adaptation.objects.bulk_create(
            (
                Adaptation(name=f"{prefix}-a{start + i}", kind="fine_tune", owner=owners[(start + i) % len(owners)])
                for i in range(size)
            ),
            batch_size=BATCH,
        )
        levels.append([a.pk for a in created])
        edges = []
        for child in levels[-1]:
            if level == 0:
                edges.append(AdaptationParent(child_id=child, parent_model_id=rng.choice(model_ids)))
                continue
            first = rng.choice(levels[level - 1])
            edges.append(AdaptationParent(child_id=child, parent_adaptation_id=first))
            if rng.random() < 0.1:
                other = rng.choice(levels[level - rng.randint(1, min(3, level))])
                if other != first:
                    edges.append(AdaptationParent(child_id=child, parent_adaptation_id=other))
        AdaptationParent.objects.bulk_create(edges, batch_size=BATCH)
    return model_ids, [pk for ids in levels for pk in ids]


def _deployments(sizes: Sizes, rng: random.Random, owners: list, models: list[int], adaptations: list[int], prefix):
    now = timezone.now()
    rows = []
    for i in range(sizes.deployments):
        target = {"foundation_model_id": rng.choice(models)} if i % 10 == 0 or not adaptations else {}
        rows.append(
            Deployment(
                name=f"{prefix}-d{i}",
                environment=ENVIRONMENTS[i % 3],
                status="live" if i % 5 else "approved",
                owner=owners[i % len(owners)],
                went_live_at=now - dt.timedelta(days=i % 300) if i % 5 else None,
                expected_requests_per_day=1000 + i,
                expected_tokens_per_request=500,
                **(target or {"adaptation_id": rng.choice(adaptations)}),
            )
        )
    return [d.pk for d in Deployment.objects.bulk_create(rows, batch_size=BATCH)]


def _reviews(sizes: Sizes, deployments: list[int], people: dict[str, list]) -> None:
    policy, _ = ReviewPolicy.objects.get_or_create(name="seed-scale policy", defaults={"quorum": 2})
    now = timezone.now()
    reviews = RiskReview.objects.bulk_create(
        (
            RiskReview(
                deployment_id=deployments[i % len(deployments)],
                policy=policy,
                title=f"Review {i}",
                state=ReviewState.APPROVED,
                submission=1,
                content_hash=hashlib.sha256(f"review {i}".encode()).hexdigest(),
                created_by=people["engineer"][i % len(people["engineer"])],
                submitted_by=people["engineer"][i % len(people["engineer"])],
                submitted_at=now,
                decided_at=now,
                approved_at=now,
                expires_at=now + dt.timedelta(days=365),
            )
            for i in range(min(sizes.reviews, len(deployments)))
        ),
        batch_size=BATCH,
    )
    reviewers = people["reviewer"]
    SignOff.objects.bulk_create(
        (
            SignOff(
                review=review,
                reviewer=reviewers[(i + k) % len(reviewers)],
                submission=1,
                decision=Decision.APPROVE,
                content_hash=review.content_hash,
                hash_scheme=review.hash_scheme,
            )
            for i, review in enumerate(reviews)
            for k in range(2)
        ),
        batch_size=BATCH,
    )


def _runs(sizes: Sizes, deployments: list[int], owner) -> None:
    suite, _ = EvaluationSuite.objects.get_or_create(
        name="seed-scale latency and energy", defaults={"evaluator": "latency_energy", "owner": owner}
    )
    now = timezone.now()
    for start in range(0, sizes.runs, BATCH):
        runs = EvaluationRun.objects.bulk_create(
            EvaluationRun(
                suite=suite,
                deployment_id=deployments[i % len(deployments)],
                evaluator=suite.evaluator,
                state=RunState.SUCCEEDED,
                progress=100,
                passed=True,
                started_at=now - dt.timedelta(minutes=i % 10_000 + 1),
                finished_at=now - dt.timedelta(minutes=i % 10_000),
            )
            for i in range(start, min(start + BATCH, sizes.runs))
        )
        RunMetric.objects.bulk_create(
            RunMetric(run=run, name=name, value=value, n=20)
            for run in runs
            for name, value in (("energy_wh_per_1k_tokens", 0.3 + run.pk % 7 / 10), ("p95_latency_ms", 400.0))
        )


_EVENT_COLUMNS = tuple(f.column for f in AuditEvent._meta.concrete_fields)


def _insert_events(rows: list[dict]) -> None:
    """COPY on PostgreSQL (several times faster than INSERT for a million rows), bulk_create elsewhere."""
    if connection.vendor != "postgresql":
        AuditEvent.objects.bulk_create(AuditEvent(**row) for row in rows)
        return
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({', '.join(_EVENT_COLUMNS)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row([json.dumps(row[c]) if c in ("changes", "context") else row[c] for c in _EVENT_COLUMNS])


def _events(count: int, objects: list[tuple[str, int]], actor) -> None:
    """``count`` events chained from the current head, exactly as ``audit_record`` writes them, in batches."""
    with transaction.atomic():
        head = lock_chain_head()
        seq, prev = head.seq, head.hash
        moment = timezone.now() - dt.timedelta(seconds=count)
        for start in range(0, count, BATCH):
            batch = []
            for i in range(start, min(start + BATCH, count)):
                object_type, object_id = objects[i % len(objects)]
                seq += 1
                values = {
                    "seq": seq,
                    "timestamp": moment + dt.timedelta(seconds=i),
                    "actor_id": actor.pk,
                    "actor_username": actor.username,
                    "actor_system": "",
                    "action": ACTIONS[i % len(ACTIONS)],
                    "object_type": object_type,
                    "object_id": str(object_id),
                    "object_repr": f"{object_type} {object_id}",
                    "changes": {"status": ["approved", "live"]} if i % 2 else {"summary": [None, f"note {i}"]},
                    "context": {"request_id": f"seed-{i}"},
                    "prev_hash": prev,
                }
                data = canonical_bytes({**values, "timestamp": format_timestamp(values["timestamp"])})
                prev = hashlib.sha256(prev.encode("ascii") + data).hexdigest()
                row = {k: v if k == "timestamp" else stored_form(v) for k, v in values.items()}
                batch.append({**row, "canonical": data, "hash": prev})
            _insert_events(batch)
        head.seq, head.hash = seq, prev
        head.save(update_fields=["seq", "hash"])


def seed_scale(sizes: Sizes, *, seed: int = 18, prefix: str = "scale", say: Callable[[str], None] = print) -> dict:
    """Fill the database; returns the counts written. Each part is timed for the caller's log."""
    import time

    rng = random.Random(seed)
    counts: dict[str, int] = {}
    clock = time.perf_counter()

    def done(part: str, n: int) -> None:
        counts[part] = n
        say(f"{part}: {n:,} in {time.perf_counter() - clock:.1f}s")

    people = _users(prefix)
    owners = people["engineer"]
    with transaction.atomic(), bulk_writes_recorded():
        models, adaptations = _dag(sizes, rng, owners, prefix)
        done("adaptations", len(adaptations))
        rebuilt = lineage_rebuild()
        counts["lineage_roots"], counts["lineage_reach"] = rebuilt["rows"], rebuilt["reach_rows"]
        done("lineage roots and reach pairs", rebuilt["rows"] + rebuilt["reach_rows"])
        deployments = _deployments(sizes, rng, owners, models, adaptations, prefix)
        done("deployments", len(deployments))
        _reviews(sizes, deployments, people)
        done("reviews", min(sizes.reviews, len(deployments)))
        _runs(sizes, deployments, owners[0])
        done("evaluation runs", sizes.runs)
    objects = [("registry.deployment", pk) for pk in deployments[:1000]] + [
        ("registry.adaptation", pk) for pk in adaptations[:1000]
    ]
    _events(sizes.events, objects, owners[0])
    done("audit events", sizes.events)
    _vacuum_lineage()
    done("lineage tables vacuumed", counts["lineage_roots"] + counts["lineage_reach"])
    return counts


def _vacuum_lineage() -> None:
    """VACUUM ANALYZE the lineage tables, as autovacuum soon would after a bulk load.

    Their walks are index-only scans, which visit the table for every row until
    a vacuum marks its pages all-visible: measured straight after the load,
    below a node with 2,900 descendants that is 2,900 table visits more.
    """
    from fmgov.registry.lineage import LineageReach

    # VACUUM cannot run inside a transaction (a caller's, or a test's): then ANALYZE alone.
    vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
    with connection.cursor() as cursor:
        for table in (LineageRoot._meta.db_table, LineageReach._meta.db_table):
            cursor.execute(f"{'VACUUM ANALYZE' if vacuum else 'ANALYZE'} {connection.ops.quote_name(table)}")


def measured_pages() -> list[tuple[str, str]]:
    """(name, path) of every page the pages benchmark times and the query-count test checks, on seeded data.

    The dashboard, each list page, a model page with its lineage (the seeded model with most below it), an
    adaptation page, a review page, the audit trail with each filter, and each list endpoint of the API.
    """
    from django.urls import reverse

    model = LineageRoot.objects.values("foundation_model_id").annotate(n=Count("id")).order_by("-n").first()
    adaptation = Adaptation.objects.filter(lineage_roots__depth=1).order_by("id").first()
    review = RiskReview.objects.order_by("id").first()
    event = AuditEvent.objects.order_by("-seq").first()
    pages = [("dashboard", reverse("dashboard"))]
    pages += [
        (f"list {name}", reverse(name))
        for name in (
            "registry:model-list",
            "registry:adaptation-list",
            "registry:deployment-list",
            "reviews:review-list",
            "evaluations:index",
            "reports:report-list",
        )
    ]
    if model:
        pages.append(("model page with lineage", reverse("registry:model-detail", args=[model["foundation_model_id"]])))
    if adaptation:
        pages.append(("adaptation page with lineage", reverse("registry:adaptation-detail", args=[adaptation.pk])))
    if review:
        pages.append(("review page", reverse("reviews:review-detail", args=[review.pk])))
    audit = reverse("audits:event-list")
    pages.append(("audit trail", audit))
    if event:
        since = (event.timestamp - dt.timedelta(hours=1)).isoformat()
        filters = {
            "object_type": f"object_type={event.object_type}",
            "object_id": f"object_type={event.object_type}&object_id={event.object_id}",
            "actor": f"actor={event.actor_username}",
            "action": f"action={event.action}",
            "action_prefix": "action_prefix=deployment.",
            "since/until": f"since={since}&until={event.timestamp.isoformat()}".replace("+", "%2B"),
        }
        pages += [(f"audit trail by {name}", f"{audit}?{query}") for name, query in filters.items()]
    api = (
        "foundation-model-list",
        "adaptation-list",
        "deployment-list",
        "review-list",
        "evaluation-run-list",
        "evaluation-suite-list",
        "finding-list",
        "audit-event-list",
        "report-list",
        "portfolio-finding-list",
    )
    pages += [(f"api {name}", reverse(name)) for name in api]
    pages.append(("api portfolio concentration", reverse("portfolio-concentration")))
    return pages
