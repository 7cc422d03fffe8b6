"""A large, realistic registry for measurement (``manage.py seed_scale``), written with bulk loads.

It lives in the dashboard app because it fills every app below it. The rows are
measurement data, not governance writes, so they bypass the services (inside
``bulk_writes_recorded()``): each table's rows are built as tuples (every
column: the few that vary, the model's defaults for the rest) and streamed
with ``COPY`` on PostgreSQL, ``executemany`` elsewhere; ids are reserved from
the table's sequence first, so children can point at parents without reading
anything back. The audit trail gets ``events`` synthetic events in its current
format (canonical bytes, hash chained from the current head, the head row
moved), so ``verify_audit_trail`` still passes afterwards. The lineage tables
are rebuilt once from the edges (``lineage_rebuild``).
"""

import datetime as dt
import hashlib
import json
import random
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection, models, transaction
from django.db.models import Count
from django.utils import timezone

from audits.base import bulk_writes_recorded
from audits.canonical import canonical_bytes, canonical_json, format_timestamp, stored_form
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

BATCH = 5000  # rows per executemany (SQLite)
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


def _reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """``count`` new primary keys, ascending, taken from the table's sequence (PostgreSQL) or after its last id.

    On PostgreSQL another session may take ids in between: the list is then not
    contiguous, never shared. SQLite serialises writers, and an explicit id moves
    its AUTOINCREMENT counter on.
    """
    if count <= 0:
        return []
    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, column, count]
            )
            return sorted(row[0] for row in cursor.fetchall())
        quoted = connection.ops.quote_name
        cursor.execute(f"SELECT COALESCE(MAX({quoted(column)}), 0) FROM {quoted(table)}")  # noqa: S608
        last = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        counter = cursor.fetchone()
    first = max(last, counter[0] if counter else 0) + 1
    return list(range(first, first + count))


class _Table:
    """One model's rows as tuples: the ``varying`` columns first, then every other column's constant value.

    A constant is taken from ``values`` or else the field's default, and
    prepared for the database once; ``auto_now`` stamps not given are the time
    the table was set up. A required field (no default, neither blank nor null)
    left out is refused here rather than written empty.
    """

    def __init__(self, model: type[models.Model], varying: tuple[str, ...], **values: Any) -> None:
        self.model = model
        fields = {f.attname: f for f in model._meta.concrete_fields}
        now = timezone.now()
        constant = []
        for name, field in fields.items():
            if name in varying or (field.primary_key and name not in values):
                continue
            if name in values:
                value = values[name]
            elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                value = now
            elif field.has_default() or field.blank or field.null:
                value = field.get_default()
            else:
                raise ValueError(f"seed_scale: {model._meta.label}.{name} needs a value")
            constant.append((field.column, field.get_db_prep_save(value, connection)))
        self.columns = tuple(fields[name].column for name in varying) + tuple(c for c, _ in constant)
        self.constant = tuple(v for _, v in constant)

    def load(self, rows: Iterable[tuple]) -> int:
        """Write the rows (their varying values); returns how many."""
        constant = self.constant
        return _load(self.model, self.columns, (row + constant for row in rows))


def _load(model: type[models.Model], columns: tuple[str, ...], rows: Iterable[tuple]) -> int:
    """COPY on PostgreSQL (a row costs a few microseconds); executemany in batches elsewhere.

    Values are what the database takes: JSON columns as JSON text, datetimes
    aware (turned into SQLite's text form here).
    """
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    count = 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    adapt = connection.ops.adapt_datetimefield_value
    sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608
    with connection.cursor() as cursor:
        batch: list[tuple] = []
        for row in rows:
            batch.append(tuple(adapt(v) if isinstance(v, dt.datetime) else v for v in row))
            if len(batch) == BATCH:
                cursor.executemany(sql, batch)
                count, batch = count + len(batch), []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


def _fewer_rows_than(model: type[models.Model], count: int) -> bool:
    """Whether the table holds fewer than ``count`` rows (reads at most that many)."""
    return model._default_manager.all()[:count].count() < count


@contextmanager
def _indexes_rebuilt(tables: list[type[models.Model]], *, when: bool) -> Iterator[None]:
    """On PostgreSQL and ``when``, the tables' secondary indexes dropped around a large load, then built again.

    A million audit events inserted one by one into the hash's two indexes
    (random keys) cost more than sorting them once; the same for the lineage
    pairs' index by ancestor. Same names and definitions from the catalogue; the
    primary key, and any unique constraint a foreign key leans on, stay. Inside
    the caller's transaction, so a failure restores them; the tables are locked
    (ACCESS EXCLUSIVE) until it commits: a seeding step, not something to run
    beside traffic. PostgreSQL refuses to drop an index of a table with checks
    still pending in the transaction: the audit trail has none (no foreign key,
    no AFTER trigger); the lineage tables' keys are dropped first (``_foreign_keys_checked_at_end``).
    """
    if connection.vendor != "postgresql" or not when:
        yield
        return
    names = [model._meta.db_table for model in tables]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint c"
            " WHERE conrelid = ANY(%s::regclass[]) AND contype = 'u' AND NOT EXISTS ("
            " SELECT 1 FROM pg_constraint f WHERE f.conindid = c.conindid AND f.contype = 'f')",
            [names],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
            " WHERE indrelid = ANY(%s::regclass[]) AND NOT indisprimary"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = indexrelid)",
            [names],
        )
        indexes = cursor.fetchall()
        for table, name, _ in constraints:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {connection.ops.quote_name(name)}")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")  # sorts in memory; back at the commit
        for table, name, definition in constraints:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}")
        for _, definition in indexes:
            cursor.execute(definition)


_LOADED = (FoundationModel, Adaptation, AdaptationParent, Deployment, RiskReview, SignOff, EvaluationRun, RunMetric)


def _lineage_models() -> list[type[models.Model]]:
    """Every table ``lineage_rebuild`` fills (the stored lineage's models), whatever their number."""
    return [m for m in apps.get_app_config("registry").get_models() if m.__module__ == LineageRoot.__module__]


@contextmanager
def _foreign_keys_checked_at_end(sizes: Sizes, *, alone: bool) -> Iterator[bool]:
    """On PostgreSQL, the loaded tables' foreign keys dropped first and added back at the end: one check each.

    Each row otherwise queues a deferred check run at the commit, one probe per
    row and key (some 4.5 million for a full seed, most of them the lineage
    reach pairs'); adding a key back checks the whole table in one join. Only when the
    seed at least doubles the registry (that check reads every row, old ones
    too), and only ``alone``, in a transaction of the seed's own: a caller's
    may hold checks still pending on a referenced table, and PostgreSQL refuses
    to drop a key then. Same names and definitions from the catalogue, in the
    seed's transaction, so a failure (or a row that does not match) restores them.
    """
    if not (alone and connection.vendor == "postgresql" and _fewer_rows_than(Adaptation, sizes.adaptations)):
        yield False
        return
    tables = [model._meta.db_table for model in (*_LOADED, *_lineage_models())]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY conrelid, conname",
            [tables],
        )
        keys = cursor.fetchall()
        for table, name, _ in keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {connection.ops.quote_name(name)}")
    yield True
    with connection.cursor() as cursor:
        for table, name, definition in keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}")


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


_EVENT_VARYING = ("seq", "timestamp", "action", "object_type", "object_id", "object_repr", "changes", "context")
_EVENT_VARYING += ("prev_hash", "hash", "canonical")


def _canonical_template(actor) -> str:
    """The canonical JSON of a seeded event with ``{0}``..``{8}`` where its varying values go (as JSON).

    Taken from ``canonical_json`` itself, so key order, separators and the
    actor's escaping are the trail's; ``_events`` checks whole events against
    ``canonical_bytes`` as it goes.
    """
    probe = {name: f"@@{k}@@" for k, name in enumerate(_EVENT_VARYING[:9])}
    probe.update(actor_id=actor.pk, actor_username=actor.username, actor_system="")
    template = canonical_json(probe).replace("{", "{{").replace("}", "}}")
    for k in range(9):
        template = template.replace(f'"@@{k}@@"', f"{{{k}}}")
    return template


def _events(count: int, objects: list[tuple[str, int]], actor) -> None:
    """``count`` events chained from the current head, byte for byte as ``audit_record`` writes them, in one COPY.

    The canonical bytes come from a template (a few microseconds an event
    instead of a dict, a JSON encoding and ``stored_form`` each); every
    10,000th event is also encoded by ``canonical_bytes`` and must be equal.
    """
    template = _canonical_template(actor)
    table = _Table(AuditEvent, _EVENT_VARYING, actor_id=actor.pk, actor_username=stored_form(actor.username))
    described = [(t, str(i), f"{t} {i}") for t, i in objects]
    quoted = [tuple(canonical_json(v) for v in obj) for obj in described]
    actions = [(a, canonical_json(a)) for a in ACTIONS]
    moved = canonical_json({"status": ["approved", "live"]})
    with transaction.atomic():
        head = lock_chain_head()
        first, prev = head.seq + 1, head.hash
        moment = timezone.now() - dt.timedelta(seconds=count)

        def rows() -> Iterator[tuple]:
            nonlocal prev
            for i, (stamp, text) in enumerate(_seconds_apart(moment, count)):
                seq = first + i
                action, action_json = actions[i % len(actions)]
                k = i % len(objects)
                changes = moved if i % 2 else f'{{"summary":[null,"note {i}"]}}'
                context = f'{{"request_id":"seed-{i}"}}'
                data = template.format(
                    seq, f'"{text}"', action_json, *quoted[k], changes, context, f'"{prev}"'
                ).encode()
                if i % 10_000 == 0:
                    _check_event(data, seq, stamp, actor, described[k], action, changes, context, prev)
                digest = hashlib.sha256(prev.encode("ascii") + data).hexdigest()
                yield (seq, stamp, action, *described[k], changes, context, prev, digest, data)
                prev = digest

        with _indexes_rebuilt([AuditEvent], when=_fewer_rows_than(AuditEvent, count)):
            table.load(rows())
        head.seq, head.hash = first + count - 1, prev
        head.save(update_fields=["seq", "hash"])


def _seconds_apart(start: dt.datetime, count: int) -> Iterator[tuple[dt.datetime, str]]:
    """``count`` times a second apart from ``start``, each with its ``format_timestamp`` text.

    The text is put together from the day's and the second's (an aware
    datetime's ``isoformat`` was a third of an event's cost); ``_check_event``
    compares it with ``format_timestamp`` every 10,000th event.
    """
    stamp = start.astimezone(dt.UTC)
    midnight = stamp.replace(hour=0, minute=0, second=0, microsecond=0)
    clock = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]
    fraction = f".{stamp.microsecond:06d}+00:00"
    offset = stamp.hour * 3600 + stamp.minute * 60 + stamp.second
    second, days = dt.timedelta(seconds=1), {}
    for i in range(count):
        day, moment = divmod(offset + i, 86_400)
        if day not in days:
            days[day] = (midnight + dt.timedelta(days=day)).date().isoformat()
        yield stamp, f"{days[day]}T{clock[moment]}{fraction}"
        stamp += second


def _check_event(data: bytes, seq: int, stamp, actor, obj: tuple, action: str, changes: str, context: str, prev: str):
    """Refuse to go on if the template's bytes are not what ``audit_record`` would have hashed."""
    values = {
        "seq": seq,
        "timestamp": format_timestamp(stamp),  # the template's text came from _seconds_apart
        "actor_id": actor.pk,
        "actor_username": actor.username,
        "actor_system": "",
        "action": action,
        "object_type": obj[0],
        "object_id": obj[1],
        "object_repr": obj[2],
        "changes": json.loads(changes),
        "context": json.loads(context),
        "prev_hash": prev,
    }
    if data != canonical_bytes(values):
        raise RuntimeError(f"seed_scale: event {seq}'s template bytes differ from canonical_bytes")


def seed_scale(sizes: Sizes, *, seed: int = 18, prefix: str = "scale", say: Callable[[str], None] = print) -> dict:
    """Fill the database; returns the counts written. Each part is timed for the caller's log."""
    rng = random.Random(seed)
    counts: dict[str, int] = {}
    clock = time.perf_counter()

    def done(part: str, n: int) -> None:
        counts[part] = n
        say(f"{part}: {n:,} in {time.perf_counter() - clock:.1f}s")

    people = _users(prefix)
    owners = [user.pk for user in people["engineer"]]
    alone = not connection.in_atomic_block
    with transaction.atomic(), bulk_writes_recorded(), _foreign_keys_checked_at_end(sizes, alone=alone) as large:
        model_ids, adaptations = _dag(sizes, rng, owners, prefix)
        done("adaptations", len(adaptations))
        with _indexes_rebuilt(_lineage_models(), when=large):  # the rebuild rewrites every row
            rebuilt = lineage_rebuild()
        counts["lineage_roots"], counts["lineage_reach"] = rebuilt["rows"], rebuilt["reach_rows"]
        done("lineage roots and reach pairs", rebuilt["rows"] + rebuilt["reach_rows"])
        deployments = _deployments(sizes, rng, owners, model_ids, adaptations, prefix)
        done("deployments", len(deployments))
        done("reviews", _reviews(sizes, deployments, people))
        _runs(sizes, deployments, people["engineer"][0])
        done("evaluation runs", sizes.runs)
    say(f"registry committed in {time.perf_counter() - clock:.1f}s")
    objects = [("registry.deployment", pk) for pk in deployments[:1000]] + [
        ("registry.adaptation", pk) for pk in adaptations[:1000]
    ]
    _events(sizes.events, objects, people["engineer"][0])
    done("audit events", sizes.events)
    _vacuum_lineage()
    done("lineage tables vacuumed", counts["lineage_roots"] + counts["lineage_reach"])
    return counts


def _vacuum_lineage() -> None:
    """VACUUM ANALYZE the lineage tables (all of them), as autovacuum soon would after a bulk load.

    Their walks are index-only scans, which visit the table for every row until
    a vacuum marks its pages all-visible: measured straight after the load,
    below a node with 2,900 descendants that is 2,900 table visits more.
    """
    # VACUUM cannot run inside a transaction (a caller's, or a test's): then ANALYZE alone.
    vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
    with connection.cursor() as cursor:
        for table in (model._meta.db_table for model in _lineage_models()):
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
