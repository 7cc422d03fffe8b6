"""``seed_scale`` at a tiny size: every part written, the lineage roots right, the audit trail still verifying."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audits.models import AuditEvent
from audits.selectors import verify_chain
from fmgov.evaluations.models import EvaluationRun, RunMetric
from fmgov.registry.lineage import LineageRoot
from fmgov.registry.models import Adaptation, AdaptationParent, Deployment
from fmgov.registry.selectors import adaptation_descendant_ids, adaptation_descendants
from fmgov.reviews.models import RiskReview, SignOff

pytestmark = pytest.mark.django_db

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
    # A second run with another prefix appends after the first and still verifies.
    call_command("seed_scale", *TINY, "--runs", "0", "--events", "10", "--prefix", "again", stdout=StringIO())
    assert verify_chain().ok and Adaptation.objects.count() == 120


def test_nonsense_sizes_are_refused() -> None:
    with pytest.raises(CommandError, match="at least 1"):
        call_command("seed_scale", "--depth", "0", stdout=StringIO())
    with pytest.raises(CommandError, match="at least one deployment"):
        call_command("seed_scale", "--deployments", "0", stdout=StringIO())
    assert not Adaptation.objects.exists()
