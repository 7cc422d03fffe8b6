"""The ML-BOM in: a BOM fmgov wrote imports back into an empty registry to the same lineage; hostile ones never 500."""

import copy
import json

import pytest

from audits.base import bulk_writes_recorded
from audits.models import AuditEvent
from fmgov.core.exceptions import Conflict, InvalidInput, NotAllowed
from fmgov.interop import bom, selectors
from fmgov.interop import vocabulary as v
from fmgov.interop.services import ml_bom_import
from fmgov.registry import selectors as registry_selectors
from fmgov.registry.models import Adaptation, AdaptationParent, Deployment, FoundationModel
from fmgov.registry.tests.factories import sha256

pytestmark = pytest.mark.django_db


def export(deployment) -> dict:
    return bom.deployment_bom(selectors.bom_source(deployments=[selectors.deployment_for_bom(deployment.pk)]))


def lineage_by_digest() -> dict[str, set[str]]:
    """Every record's digest -> its parents' digests: the lineage, independent of primary keys."""
    digest = {("m", m.pk): m.artifact_digest for m in FoundationModel.objects.all()}
    digest |= {("a", a.pk): a.artifact_digest for a in Adaptation.objects.all()}
    found = {d: set() for d in digest.values()}
    for e in AdaptationParent.objects.all():
        parent = ("m", e.parent_model_id) if e.parent_model_id else ("a", e.parent_adaptation_id)
        found[digest[("a", e.child_id)]].add(digest[parent])
    return found


def flush_registry() -> None:
    with bulk_writes_recorded():
        Deployment.objects.all().delete()
        AdaptationParent.objects.all().delete()
        Adaptation.objects.all().delete()
        FoundationModel.objects.all().delete()


def test_a_deployment_bom_imports_back_into_an_empty_registry_to_the_same_lineage(deployment, lineage, engineer):
    document = export(deployment)
    before = lineage_by_digest()
    facts = FoundationModel.objects.values_list("name", "provider", "training_energy_kwh").get(pk=lineage.a.pk)
    flush_registry()
    assert not FoundationModel.objects.exists()

    results = ml_bom_import(actor=engineer, document=json.loads(json.dumps(document)))
    assert len(results) == 5 and all(r.created for r in results)
    assert lineage_by_digest() == before
    l2 = Adaptation.objects.get(artifact_digest=lineage.l2.artifact_digest)
    assert l2.kind == "lora" and l2.purpose == "Answer support tickets."
    assert {row["depth"] for row in registry_selectors.adaptation_lineage(adaptation_id=l2.pk)} == {1, 2}
    restored = FoundationModel.objects.get(artifact_digest=lineage.a.artifact_digest)
    assert (restored.name, restored.provider, restored.training_energy_kwh) == facts
    created = AuditEvent.objects.filter(action__in=["foundation_model.create", "adaptation.create"]).order_by("-pk")
    assert created[0].context.get("ml_bom_import") == document["serialNumber"]

    # Idempotent: the same BOM again finds everything and writes nothing.
    events = AuditEvent.objects.count()
    again = ml_bom_import(actor=engineer, document=document)
    assert not any(r.created for r in again) and AuditEvent.objects.count() == events
    assert {r.record.pk for r in again} == {r.record.pk for r in results}


def test_reimport_into_the_registry_it_came_from_writes_nothing(deployment, engineer):
    events = AuditEvent.objects.count()
    results = ml_bom_import(actor=engineer, document=export(deployment))
    assert not any(r.created for r in results) and AuditEvent.objects.count() == events


def _component(document: dict, ref: str) -> dict:
    return next(c for c in document["components"] if c["bom-ref"] == ref)


def test_same_digest_other_facts_is_a_conflict_and_nothing_is_written(deployment, lineage, engineer):
    document = export(deployment)
    _component(document, v.model_ref(lineage.c.pk))["name"] = "Renamed"
    extra = copy.deepcopy(_component(document, v.model_ref(lineage.b.pk)))
    extra.update({"bom-ref": "new-model", "name": "Brand-new", "hashes": [{"alg": "SHA-256", "content": sha256("n")}]})
    document["components"].insert(0, extra)
    with pytest.raises(Conflict, match="Renamed"):
        ml_bom_import(actor=engineer, document=document)
    assert not FoundationModel.objects.filter(name="Brand-new").exists()  # atomic


def test_same_digest_other_lineage_is_a_conflict(deployment, lineage, engineer):
    document = export(deployment)
    for dependency in document["dependencies"]:
        if dependency["ref"] == v.adaptation_ref(lineage.l1.pk):
            dependency["dependsOn"] = [v.model_ref(lineage.a.pk)]
    with pytest.raises(Conflict, match="other parents"):
        ml_bom_import(actor=engineer, document=document)


def test_same_name_and_version_with_another_digest_is_a_conflict(deployment, lineage, engineer):
    document = export(deployment)
    _component(document, v.model_ref(lineage.c.pk))["hashes"] = [{"alg": "SHA-256", "content": sha256("other")}]
    with pytest.raises(Conflict, match="registered with"):
        ml_bom_import(actor=engineer, document=document)


def test_a_lineage_cycle_is_a_conflict(deployment, lineage, engineer):
    document = export(deployment)
    document["dependencies"].append(
        {"ref": v.adaptation_ref(lineage.l1.pk), "dependsOn": [v.adaptation_ref(lineage.l2.pk)]}
    )
    with pytest.raises(Conflict, match="cycle"):
        ml_bom_import(actor=engineer, document=document)


def test_reviewers_and_auditors_may_not_import(deployment, reviewer, auditor):
    for user in (reviewer, auditor):
        with pytest.raises(NotAllowed):
            ml_bom_import(actor=user, document=export(deployment))


def minimal(**component) -> dict:
    base = {"type": "machine-learning-model", "bom-ref": "m", "name": "Foreign", "version": "2"}
    return {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": [{**base, **component}]}


def test_a_foreign_bom_without_fmgov_properties_needs_the_facts_the_registry_requires(engineer):
    with pytest.raises(InvalidInput) as refused:
        ml_bom_import(actor=engineer, document=minimal())
    assert "components[m].provider" in refused.value.field_errors
    assert "components[m].modality" in refused.value.field_errors
    document = minimal(supplier={"name": "Foreign Lab"}, modelCard={"modelParameters": {"task": "text"}})
    (result,) = ml_bom_import(actor=engineer, document=document)
    assert result.created and result.record.provider == "Foreign Lab" and result.record.access == "open_weights"


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ([], "bom"),
        ({"bomFormat": "SPDX", "specVersion": "1.6"}, "bomFormat"),
        ({"bomFormat": "CycloneDX", "specVersion": "1.4"}, "specVersion"),
        (minimal(name=["not", "a", "string"]), "bom"),
        (minimal(hashes=[{"alg": "SHA-256", "content": "a" * 40}]), "components[m]"),
        (minimal(properties=[{"name": "fmgov:record", "value": "deployment"}]), "components[m]"),
        (
            minimal(properties=[{"name": "fmgov:parameter_count", "value": "many"}], supplier={"name": "x"}),
            "components[m].parameter_count",
        ),
        ({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": []}, "components"),
        (minimal(properties=[{"name": "fmgov:training_compute_flop", "value": "nan"}]), "components[m]"),
        (minimal(properties=[{"name": "fmgov:training_compute_flop", "value": "-inf"}]), "components[m]"),
        (minimal(properties=[{"name": "fmgov:parameter_count", "value": "1" * 30}]), "components[m]"),
        (minimal(properties=[{"name": "fmgov:release_date", "value": "2024-13-45"}]), "components[m]"),
        (minimal(name="x" * 300, supplier={"name": "s"}), "components[m].name"),
    ],
)
def test_invalid_boms_are_refused_with_a_message(engineer, document, field):
    with pytest.raises(InvalidInput) as refused:
        ml_bom_import(actor=engineer, document=document)
    errors = refused.value.field_errors
    assert field in errors or any(key.startswith(field) for key in errors), errors
    assert not FoundationModel.objects.exists()


def test_an_energy_figure_json_reads_as_infinity_is_refused(engineer):
    """json.loads("1e400") is inf, which no audit event can hold: a 400, not a 500."""
    training = {"activity": "training", "energyProviders": [], "activityEnergyCost": {"value": 1, "unit": "kWh"}}
    card = {"considerations": {"environmentalConsiderations": {"energyConsumptions": [training]}}}
    document = minimal(supplier={"name": "s"}, modelCard=card, properties=[{"name": "fmgov:modality", "value": "text"}])
    document = json.loads(json.dumps(document).replace('"value": 1,', '"value": 1e400,'))
    with pytest.raises(InvalidInput) as refused:
        ml_bom_import(actor=engineer, document=document)
    assert "components[m].training_energy_kwh" in refused.value.field_errors
