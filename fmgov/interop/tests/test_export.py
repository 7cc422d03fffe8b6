"""The ML-BOM out: schema-valid CycloneDX 1.6, every ancestor with its digest, lineage, metrics, approval, no secret."""

import json
import sys
import traceback
from itertools import pairwise

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from audits.base import bulk_writes_recorded
from fmgov.interop import bom, selectors
from fmgov.interop import vocabulary as v
from fmgov.interop.bom import _endpoint_url
from fmgov.interop.tests.conftest import SECRET_ENV, SECRET_VALUE, add_run, approve_deployment
from fmgov.registry import services as registry
from fmgov.registry.models import Adaptation, AdaptationParent, EndpointCredential
from fmgov.registry.tests.factories import chain

pytestmark = pytest.mark.django_db


def deployment_bom(deployment) -> dict:
    return bom.deployment_bom(selectors.bom_source(deployments=[selectors.deployment_for_bom(deployment.pk)]))


def by_ref(document: dict) -> dict[str, dict]:
    return {c["bom-ref"]: c for c in [document["metadata"]["component"], *document.get("components", [])]}


def props(component: dict) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for p in component.get("properties", []):
        found.setdefault(p["name"], []).append(p.get("value"))
    return found


def test_deployment_bom_validates_and_lists_every_ancestor_with_digest_and_lineage(
    deployment, lineage, engineer, reviewer, other_reviewer
):
    add_run(deployment, engineer, suite_name="bias", metrics={"gap": (0.5, 10, 0.1, 0.9)}, age_days=3)
    add_run(deployment, engineer, suite_name="bias", metrics={"gap": (0.031, 400, 0.012, 0.05)})
    add_run(deployment, engineer, suite_name="refusals", metrics={"refusal_rate": (0.02, 200, None, None)})
    review = approve_deployment(deployment, engineer, reviewer, other_reviewer)
    document = deployment_bom(deployment)
    text = json.dumps(document)
    # The library's own strict validator, independently of the check bom.py runs.
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    assert document["specVersion"] == "1.6" and document["bomFormat"] == "CycloneDX"

    top = document["metadata"]["component"]
    assert top["bom-ref"] == v.deployment_ref(deployment.pk) and top["type"] == "application"
    components = by_ref(document)
    ancestors = {
        v.adaptation_ref(lineage.l2.pk): lineage.l2,
        v.adaptation_ref(lineage.l1.pk): lineage.l1,
        v.model_ref(lineage.a.pk): lineage.a,
        v.model_ref(lineage.b.pk): lineage.b,
        v.model_ref(lineage.c.pk): lineage.c,
    }
    for ref, record in ancestors.items():
        component = components[ref]
        assert component["type"] == "machine-learning-model"
        assert component["hashes"] == [{"alg": "SHA-256", "content": record.artifact_digest}]
        assert "modelCard" in component
    assert set(components) == {*ancestors, top["bom-ref"]}
    assert components[v.model_ref(lineage.b.pk)]["supplier"] == {"name": "Other Lab"}
    assert components[v.model_ref(lineage.b.pk)]["licenses"] == [{"license": {"id": "MIT"}}]

    depends = {d["ref"]: set(d.get("dependsOn", [])) for d in document["dependencies"]}
    service = v.service_ref(deployment.pk)
    assert depends[top["bom-ref"]] == {v.adaptation_ref(lineage.l2.pk), service}
    assert depends[v.adaptation_ref(lineage.l2.pk)] == {v.adaptation_ref(lineage.l1.pk), v.model_ref(lineage.c.pk)}
    assert depends[v.adaptation_ref(lineage.l1.pk)] == {v.model_ref(lineage.a.pk), v.model_ref(lineage.b.pk)}

    # The latest run of each suite, with its interval and n; the older bias run is gone.
    card = components[v.adaptation_ref(lineage.l2.pk)]["modelCard"]
    metrics = {m["type"]: m for m in card["quantitativeAnalysis"]["performanceMetrics"]}
    assert metrics["bias/gap"]["value"] == "0.031"
    assert metrics["bias/gap"]["confidenceInterval"] == {"lowerBound": "0.012", "upperBound": "0.05"}
    assert "confidenceInterval" not in metrics["refusals/refusal_rate"]
    assert props(card)["fmgov:metric:bias/gap:n"] == ["400"]
    considerations = card["considerations"]
    assert considerations["useCases"] == ["Answer support tickets."]
    assert any(r["name"].startswith("Misrepresentation and bias") for r in considerations["ethicalConsiderations"])
    assert considerations["fairnessAssessments"][0]["mitigationStrategy"]
    energy = components[v.model_ref(lineage.a.pk)]["modelCard"]["considerations"]["environmentalConsiderations"]
    assert energy["energyConsumptions"][0]["activityEnergyCost"] == {"value": 1200.0, "unit": "kWh"}

    approval = props(top)
    assert approval["fmgov:approval:review"] == [str(review.pk)]
    assert approval["fmgov:approval:content_hash"] == [review.content_hash]
    assert approval["fmgov:approval:policy"] == [review.policy.name]
    signed = [json.loads(s) for s in approval["fmgov:approval:signoff"]]
    assert {s["reviewer"] for s in signed} == {reviewer.username, other_reviewer.username}
    assert all(s["decision"] == "approve" and s["content_hash"] == review.content_hash for s in signed)


def test_bom_holds_no_secret(engineer, lineage, credential, env_credential):
    sealed = EndpointCredential.objects.get(pk=credential.pk).sealed_value
    texts = []
    for index, used in enumerate((credential, env_credential)):
        deployment = registry.deployment_create(
            actor=engineer,
            name=f"secretive-{index}",
            adaptation=lineage.l2,
            environment="production",
            endpoint_adapter="openai_chat",
            endpoint_base_url="https://llm.example.org/v1",
            endpoint_model="m",
            endpoint_credential=used,
        )
        document = deployment_bom(deployment)
        service = document["services"][0]
        assert service["authenticated"] is True and service["endpoints"] == ["https://llm.example.org/v1"]
        texts.append(json.dumps(document))
    for text in texts:
        for secret in (SECRET_VALUE, sealed, sealed[:24], SECRET_ENV, "FMGOV_CREDENTIAL_", credential.name):
            assert secret not in text


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:pass@llm.example.org:8443/v1?api_key=k#frag", "https://llm.example.org:8443/v1"),
        ("http://[::1]:8000/v1", "http://[::1]:8000/v1"),
        ("ftp://llm.example.org/", ""),
        ("https://[bad/", ""),
        ("", ""),
    ],
)
def test_endpoint_url_keeps_no_user_info_query_or_fragment(url, expected):
    assert _endpoint_url(url) == expected


def test_deployment_bom_query_count_does_not_grow_with_ancestors(engineer, django_assert_max_num_queries):
    counts = []
    for depth in (1, 12):
        _, nodes = chain(engineer, depth)
        deployment = registry.deployment_create(
            actor=engineer, name=f"deep-{depth}", adaptation=nodes[-1], environment="staging"
        )
        add_run(deployment, engineer, suite_name=f"suite-{depth}", metrics={"m": (0.5, 20, 0.3, 0.7)})
        with django_assert_max_num_queries(10) as captured:
            document = deployment_bom(deployment)
        assert len(document["components"]) == depth + 1
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


def test_a_lineage_deeper_than_the_recursion_limit_is_assembled(engineer, lineage):
    """300 levels under a recursion limit 250 frames above this test's stack: the assembly loops, never recurses.

    The rows are written in bulk (test data, not governance writes).
    """
    depth = 300
    with bulk_writes_recorded():
        Adaptation.objects.bulk_create(
            Adaptation(name=f"deep-{i:03d}", kind="fine_tune", owner=engineer) for i in range(depth)
        )
        nodes = list(Adaptation.objects.filter(name__startswith="deep-").order_by("name"))
        AdaptationParent.objects.bulk_create(
            [AdaptationParent(child=nodes[0], parent_model=lineage.a)]
            + [AdaptationParent(child=child, parent_adaptation=parent) for parent, child in pairwise(nodes)]
        )
    deployment = registry.deployment_create(
        actor=engineer, name="very-deep", adaptation=nodes[-1], environment="staging"
    )
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(traceback.extract_stack()) + 250)
    try:
        document = deployment_bom(deployment)
    finally:
        sys.setrecursionlimit(limit)
    assert len(document["components"]) == depth + 1
    depends = {d["ref"]: d.get("dependsOn", []) for d in document["dependencies"]}
    assert depends[v.adaptation_ref(nodes[0].pk)] == [v.model_ref(lineage.a.pk)]
    assert depends[v.adaptation_ref(nodes[-1].pk)] == [v.adaptation_ref(nodes[-2].pk)]


def test_foundation_model_bom_describes_the_model(lineage):
    model = lineage.a
    document = bom.foundation_model_bom(selectors.bom_source(deployments=[], model_ids={model.pk}), model)
    top = document["metadata"]["component"]
    assert top["bom-ref"] == v.model_ref(model.pk) and top["type"] == "machine-learning-model"
    assert top["modelCard"]["modelParameters"]["modelArchitecture"] == "decoder-only transformer"
    assert top["externalReferences"] == [{"type": "distribution", "url": "https://huggingface.co/example/base-a"}]
    assert props(top)["fmgov:record"] == ["foundation_model"]


def test_portfolio_bom_lists_only_live_deployments(deployment, engineer, reviewer, other_reviewer, lineage):
    proposed = registry.deployment_create(
        actor=engineer, name="not-live", foundation_model=lineage.b, environment="staging"
    )
    approve_deployment(deployment, engineer, reviewer, other_reviewer)
    registry.deployment_go_live(deployment=deployment, actor=engineer)
    document = bom.portfolio_bom(selectors.bom_source(deployments=list(selectors.live_deployments())))
    refs = set(by_ref(document))
    assert v.deployment_ref(deployment.pk) in refs and v.deployment_ref(proposed.pk) not in refs
    assert v.model_ref(lineage.a.pk) in refs
    depends = {d["ref"]: set(d.get("dependsOn", [])) for d in document["dependencies"]}
    assert depends[bom.PORTFOLIO_REF] == {v.deployment_ref(deployment.pk)}


def test_a_bom_that_breaks_the_schema_is_never_served(deployment, monkeypatch):
    monkeypatch.setattr(bom, "model_card", lambda record, **kw: {"notAField": 1})
    with pytest.raises(bom.BomInvalid, match="modelCard"):
        deployment_bom(deployment)
