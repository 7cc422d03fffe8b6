"""``seed_scale`` at a tiny size: every part written, the lineage roots right, the audit trail still verifying.

On PostgreSQL the tiny seed takes the full size's paths too (COPY; the audit
table's indexes dropped and built again, since it at least doubles the trail;
the loaded tables' foreign keys dropped and put back when the seed has its own
transaction, as in the last test); the second seed of the first test keeps the
indexes (it does not double the trail).
"""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from audits.canonical import canonical_bytes
from audits.models import AuditEvent, ChainHead
from audits.selectors import verify_chain
from fmgov.dashboard.scale import events
from fmgov.dashboard.scale.tables import _LOADED, _lineage_models, _Table
from fmgov.evaluations.models import EvaluationRun, RunMetric
from fmgov.registry.lineage import LineageRoot
from fmgov.registry.models import Adaptation, AdaptationParent, Deployment
from fmgov.registry.selectors import adaptation_descendant_ids, adaptation_descendants
from fmgov.registry.tests.factories import AdaptationFactory
from fmgov.reviews.models import RiskReview, SignOff

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif("connection.vendor != 'postgresql'")

TINY = ["--models", "3", "--adaptations", "60", "--depth", "6", "--deployments", "20", "--reviews", "5"]


def test_tiny_seed_writes_every_part_and_the_trail_verifies() -> None:
    out = StringIO()
    call_command("seed_scale", *TINY, "--runs", "30", "--events", "250", stdout=out)
    assert Adaptation.objects.count() == 60 and Deployment.objects.count() == 20
    assert AdaptationParent.objects.filter(parent_adaptation__isnull=False).count() >= 50  # every level below the first
    assert RiskReview.objects.count() == 5 and SignOff.objects.count() == 10
    assert EvaluationRun.objects.count() == 30 and RunMetric.objects.count() == 60
    assert AuditEvent.objects.filter(action__in=["deployment.update", "review.submit"]).count() == 100
    result = verify_chain()
    assert result.ok, result
    # The stored roots were rebuilt from the bulk-inserted edges: every adaptation rests on a model.
    assert LineageRoot.objects.values("adaptation").distinct().count() == 60
    first_model = LineageRoot.objects.order_by("depth", "id").first().foundation_model_id
    assert adaptation_descendants(model_id=first_model)
    # and the reach pairs: below a top adaptation, the stored walk finds what the walk over the edges finds.
    parents = AdaptationParent.objects.filter(parent_adaptation__lineage_roots__depth=1).order_by("parent_adaptation")
    top = parents.values_list("parent_adaptation_id", flat=True).first()
    below = adaptation_descendants(adaptation_id=top)
    assert below and {node for node, _ in below} == adaptation_descendant_ids(adaptation_id=top)
    assert "seed_scale done" in out.getvalue()
    # Fan-in: some adaptations have a second parent.
    assert AdaptationParent.objects.values("child").annotate(n=Count("id")).filter(n=2).exists()
    # The chain head is the last event, whose stored bytes are what audit_record would have hashed.
    last = AuditEvent.objects.order_by("-seq").first()
    head = ChainHead.objects.get()
    assert (head.seq, head.hash) == (last.seq, last.hash)
    assert bytes(last.canonical) == canonical_bytes(last.hashed_values())
    # Ids came from the tables' own sequences: the next ordinary insert does not collide.
    assert AdaptationFactory().pk > max(
        Adaptation.objects.filter(name__startswith="scale-").values_list("pk", flat=True)
    )
    # A second run with another prefix appends after the first and still verifies.
    call_command("seed_scale", *TINY, "--runs", "0", "--events", "10", "--prefix", "again", stdout=StringIO())
    assert verify_chain().ok and Adaptation.objects.count() == 121


def test_template_bytes_that_differ_from_canonical_bytes_stop_the_seed(monkeypatch) -> None:
    """The events' bytes come from a template; one that drifted from canonical_bytes writes nothing."""
    call_command("seed_scale", *TINY, "--runs", "0", "--events", "5", stdout=StringIO())
    seeded = AuditEvent.objects.filter(action__in=events.ACTIONS)
    assert seeded.count() == 5
    template = events._canonical_template
    monkeypatch.setattr(events, "_canonical_template", lambda actor: template(actor).replace(":", ": ", 1))
    with pytest.raises(RuntimeError, match="differ from canonical_bytes"):
        call_command("seed_scale", *TINY, "--runs", "0", "--events", "5", "--prefix", "b", stdout=StringIO())
    assert seeded.count() == 5  # (the second seed's users and registry were committed before its events)
    assert ChainHead.objects.get().seq == AuditEvent.objects.order_by("-seq").first().seq
    assert verify_chain().ok


def _schema(tables: list[str]) -> set[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint"
            " WHERE conrelid = ANY(%s::regclass[])",
            [tables],
        )
        constraints = set(cursor.fetchall())
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
            " WHERE indrelid = ANY(%s::regclass[])",
            [tables],
        )
        return constraints | set(cursor.fetchall())


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_dropped_indexes_and_foreign_keys_come_back_as_they_were() -> None:
    tables = [m._meta.db_table for m in (*_LOADED, *_lineage_models(), AuditEvent)]
    before = _schema(tables)
    assert sum("FOREIGN KEY" in row[2] for row in before if len(row) == 4) >= 15
    with CaptureQueriesContext(connection) as queries:
        call_command("seed_scale", *TINY, "--runs", "30", "--events", "250", stdout=StringIO())
    statements = " ".join(query["sql"] for query in queries.captured_queries)
    assert "DROP CONSTRAINT" in statements and "DROP INDEX" in statements  # the paths under test were taken
    assert _schema(tables) == before
    assert verify_chain().ok


def test_nonsense_sizes_are_refused() -> None:
    with pytest.raises(CommandError, match="at least 1"):
        call_command("seed_scale", "--depth", "0", stdout=StringIO())
    with pytest.raises(CommandError, match="at least one deployment"):
        call_command("seed_scale", "--deployments", "0", stdout=StringIO())
    with pytest.raises(CommandError, match="deployment or adaptation"):
        call_command("seed_scale", *("--deployments", "0", "--adaptations", "0", "--reviews", "0", "--runs", "0"))
    assert not Adaptation.objects.exists()


def test_a_required_column_left_out_is_refused_not_written_empty() -> None:
    with pytest.raises(ValueError, match=r"registry.Adaptation.kind needs a value"):
        _Table(Adaptation, ("id", "name", "owner_id"))
    assert _Table(Adaptation, ("id", "name", "owner_id"), kind="fine_tune").columns[:3] == (
        "id",
        "name",
        "owner_id",
    )
