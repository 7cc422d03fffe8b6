"""The dossier's lineage section: the right nodes on the right layers, in queries that do not grow with depth."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports.selectors.dossier import _lineage
from reports.tests.factories import make_adaptation, make_deployment, make_model

pytestmark = pytest.mark.django_db


def _layers(lineage: dict) -> dict[str, int]:
    return {f"{n['name']} {n['version']}": n["layer"] for n in lineage["nodes"]}


def test_lineage_layers_follow_the_longest_path_both_ways(engineer):
    base = make_model(engineer, name="Base", version="1")
    other = make_model(engineer, name="Other", version="1")
    tuned = make_adaptation(engineer, [base], name="Tuned", version="1")
    # A diamond above the target: Base is a parent of Tuned and of the target itself.
    target = make_adaptation(engineer, [tuned, base], name="Target", version="1")
    rag = make_adaptation(engineer, [target], name="Rag", version="1", kind="rag_application")
    # Below: Prompt depends on the target directly and through Rag; it also has a parent outside the lineage.
    prompt = make_adaptation(engineer, [target, rag, other], name="Prompt", version="1", kind="prompt_template")
    make_adaptation(engineer, [other], name="Unrelated", version="1")
    deployment = make_deployment(engineer, target, name="target-prod")
    make_deployment(engineer, prompt, name="prompt-prod")

    lineage, objects = _lineage(deployment)

    assert _layers(lineage) == {"Base 1": -2, "Tuned 1": -1, "Target 1": 0, "Rag 1": 1, "Prompt 1": 2}
    assert [n["name"] for n in lineage["nodes"] if n["is_target"]] == ["Target"]
    edges = {(e["parent"], e["child"]) for e in lineage["edges"]}
    assert edges == {
        (f"model:{base.pk}", f"adaptation:{tuned.pk}"),
        (f"model:{base.pk}", f"adaptation:{target.pk}"),
        (f"adaptation:{tuned.pk}", f"adaptation:{target.pk}"),
        (f"adaptation:{target.pk}", f"adaptation:{rag.pk}"),
        (f"adaptation:{target.pk}", f"adaptation:{prompt.pk}"),
        (f"adaptation:{rag.pk}", f"adaptation:{prompt.pk}"),
    }  # Other → Prompt is outside this lineage and not drawn
    assert [d["name"] for d in lineage["dependant_deployments"]] == ["prompt-prod"]
    # The audit trail covers the target and what it is built from, not what is built on it.
    assert ("registry.foundationmodel", str(base.pk)) in objects
    assert ("registry.adaptation", str(target.pk)) in objects and ("registry.adaptation", str(rag.pk)) not in objects


def test_a_foundation_model_target_has_only_dependants(engineer):
    base = make_model(engineer, name="Base", version="1")
    child = make_adaptation(engineer, [base], name="Child", version="1")
    make_adaptation(engineer, [child], name="Grandchild", version="1")
    lineage, _ = _lineage(make_deployment(engineer, base, name="base-prod"))
    assert _layers(lineage) == {"Base 1": 0, "Child 1": 1, "Grandchild 1": 2}


def _chain(engineer, depth: int, tag: str):
    node = make_model(engineer, name=f"{tag}-root", version="1")
    for level in range(depth):
        node = make_adaptation(engineer, [node], name=f"{tag}-{level}", version="1")
    target = node
    for level in range(depth):
        node = make_adaptation(engineer, [node], name=f"{tag}-down-{level}", version="1")
    return make_deployment(engineer, target, name=f"{tag}-prod")


def test_lineage_queries_do_not_grow_with_depth(engineer):
    shallow, deep = _chain(engineer, 2, "shallow"), _chain(engineer, 9, "deep")
    for deployment in (shallow, deep):  # deployment.target is cached, as in dossier_evidence
        assert deployment.target is not None
    with CaptureQueriesContext(connection) as shallow_queries:
        shallow_lineage, _ = _lineage(shallow)
    with CaptureQueriesContext(connection) as deep_queries:
        deep_lineage, _ = _lineage(deep)
    assert len(shallow_lineage["nodes"]) == 5 and len(deep_lineage["nodes"]) == 19
    assert min(_layers(deep_lineage).values()) == -9 and max(_layers(deep_lineage).values()) == 9
    assert len(deep_queries) == len(shallow_queries) <= 6
