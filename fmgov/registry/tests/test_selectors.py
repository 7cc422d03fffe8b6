"""Lineage selectors: one recursive query whatever the depth, on SQLite and PostgreSQL."""

from collections import deque

import pytest

from fmgov.core.exceptions import InvalidInput
from fmgov.registry import selectors, services
from fmgov.registry.lineage import lineage_rebuild
from fmgov.registry.models import AdaptationParent
from fmgov.registry.tests.factories import AdaptationFactory, DeploymentFactory, FoundationModelFactory, chain

pytestmark = pytest.mark.django_db


def bfs_depths(start_model_id: int) -> dict[int, int]:
    """The reference answer: a breadth-first walk over every edge, in Python."""
    children: dict[tuple[str, int], list[int]] = {}
    for child, model, parent in AdaptationParent.objects.values_list(
        "child_id", "parent_model_id", "parent_adaptation_id"
    ):
        key = ("m", model) if model is not None else ("a", parent)
        children.setdefault(key, []).append(child)
    depths: dict[int, int] = {}
    queue = deque((c, 1) for c in children.get(("m", start_model_id), []))
    while queue:
        node, depth = queue.popleft()
        if node in depths:
            continue
        depths[node] = depth
        queue.extend((c, depth + 1) for c in children.get(("a", node), []))
    return depths


def test_descendants_deeper_than_three_in_one_query(engineer, django_assert_num_queries):
    root, nodes = chain(engineer, 8)
    unrelated_root, _ = chain(engineer, 2)
    with django_assert_num_queries(1):
        result = selectors.adaptation_descendants(model_id=root.pk)
    assert result == [(n.pk, level) for level, n in enumerate(nodes, start=1)]
    with django_assert_num_queries(1):
        below = selectors.adaptation_descendants(adaptation_id=nodes[3].pk)
    assert below == [(n.pk, level) for level, n in enumerate(nodes[4:], start=1)]
    assert len(selectors.adaptation_descendants(model_id=unrelated_root.pk)) == 2


def test_a_diamond_is_listed_once_at_its_nearest_depth(engineer):
    root, (a, b, c, d) = chain(engineer, 4)
    shortcut = AdaptationFactory(owner=engineer, derived_from_adaptations=[a.pk, d.pk])
    tail = AdaptationFactory(owner=engineer, derived_from_adaptations=[shortcut.pk])
    result = dict(selectors.adaptation_descendants(model_id=root.pk))
    assert result[shortcut.pk] == 2 and result[tail.pk] == 3
    assert len(result) == 6
    assert result == bfs_depths(root.pk)


def test_descendants_match_a_breadth_first_walk_on_a_wider_dag(engineer):
    root = FoundationModelFactory(owner=engineer)
    levels = [[AdaptationFactory(owner=engineer, derived_from_models=[root.pk]) for _ in range(3)]]
    for depth in range(1, 6):
        row = []
        for i in range(3):
            parents = {levels[-1][i].pk, levels[-1][(i + 1) % 3].pk}
            if depth > 1:
                parents.add(levels[-2][i].pk)
            row.append(AdaptationFactory(owner=engineer, derived_from_adaptations=sorted(parents)))
        levels.append(row)
    assert dict(selectors.adaptation_descendants(model_id=root.pk)) == bfs_depths(root.pk)
    rows = selectors.descendant_adaptations(model_id=root.pk)
    assert [r["depth"] for r in rows] == sorted(r["depth"] for r in rows)
    assert {r["id"] for r in rows} == {a.pk for row in levels for a in row}


def test_ancestors_reach_every_root_in_one_query(engineer, django_assert_num_queries):
    llama, (sft, dpo) = chain(engineer, 2)
    embedder_model = FoundationModelFactory(owner=engineer)
    embedder = AdaptationFactory(owner=engineer, derived_from_models=[embedder_model.pk])
    rag = AdaptationFactory(owner=engineer, derived_from_adaptations=[dpo.pk, embedder.pk])
    prompt = AdaptationFactory(owner=engineer, derived_from_adaptations=[rag.pk])
    with django_assert_num_queries(1):
        ancestors = selectors.adaptation_ancestors(adaptation_id=prompt.pk)
    assert ancestors == [
        {"kind": "adaptation", "id": rag.pk, "depth": 1},
        {"kind": "adaptation", "id": dpo.pk, "depth": 2},
        {"kind": "adaptation", "id": embedder.pk, "depth": 2},
        {"kind": "adaptation", "id": sft.pk, "depth": 3},
        {"kind": "foundation_model", "id": embedder_model.pk, "depth": 3},
        {"kind": "foundation_model", "id": llama.pk, "depth": 4},
    ]
    named = selectors.adaptation_lineage(adaptation_id=prompt.pk)
    assert named[-1]["name"] == llama.name and named[0]["name"] == rag.name


def test_deployments_affected_by_a_model_or_an_adaptation(engineer, django_assert_num_queries):
    root, (a, b, c) = chain(engineer, 3)
    on_model = DeploymentFactory(owner=engineer, foundation_model=root)
    on_b = DeploymentFactory(owner=engineer, adaptation=b)
    on_c = DeploymentFactory(owner=engineer, adaptation=c)
    DeploymentFactory(owner=engineer)  # another model's
    on_other_adaptation = DeploymentFactory(owner=engineer, adaptation=AdaptationFactory(owner=engineer))
    with django_assert_num_queries(1):
        affected = {d.pk for d in selectors.deployments_affected_by(model_id=root.pk)}
    assert affected == {on_model.pk, on_b.pk, on_c.pk}
    assert {d.pk for d in selectors.deployments_affected_by(adaptation_id=b.pk)} == {on_b.pk, on_c.pk}
    assert on_other_adaptation.pk not in affected
    with pytest.raises(ValueError):
        selectors.deployments_affected_by()


def test_root_models_weights(engineer, django_assert_num_queries):
    m1, m2 = FoundationModelFactory(owner=engineer), FoundationModelFactory(owner=engineer)
    _, (a, b) = chain(engineer, 2, root=m1)
    merged = AdaptationFactory(owner=engineer, derived_from_models=[m2.pk], derived_from_adaptations=[b.pk])
    on_top = AdaptationFactory(owner=engineer, derived_from_adaptations=[merged.pk, a.pk])
    with django_assert_num_queries(1):
        weights = selectors.root_models_of([b.pk, merged.pk, on_top.pk])
    assert weights[b.pk] == [(m1.pk, 1.0)]
    assert weights[merged.pk] == [(m1.pk, 0.5), (m2.pk, 0.5)]
    assert weights[on_top.pk] == [(m1.pk, 0.75), (m2.pk, 0.25)]
    assert selectors.root_models_of([]) == {}


def test_list_selectors_are_shaped(engineer, django_assert_num_queries):
    for _ in range(3):
        DeploymentFactory(owner=engineer, adaptation=AdaptationFactory(owner=engineer))
    with django_assert_num_queries(2):
        rows = [(a.owner.username, a.derived_from_models) for a in selectors.adaptation_list()]
    assert len(rows) == 3
    with django_assert_num_queries(1):
        [(d.owner.username, d.target.name) for d in selectors.deployment_list()]


def test_a_cycle_written_by_hand_still_terminates(engineer):
    """Rows written behind the services' back must not hang the walk."""
    _, (a, b) = chain(engineer, 2)
    AdaptationParent.objects.create(child=a, parent_adaptation=b)  # a cycle a -> b -> a
    assert selectors.adaptation_descendant_ids(adaptation_id=a.pk) == {a.pk, b.pk}  # the edge walk ends
    # The stored lineage does not see rows written by hand; rebuilt from them, its computation and walk end too.
    assert dict(selectors.adaptation_descendants(adaptation_id=a.pk)) == {b.pk: 1}
    lineage_rebuild()
    assert dict(selectors.adaptation_descendants(adaptation_id=a.pk))[b.pk] == 1
    with pytest.raises(InvalidInput):  # the services refuse to extend it
        services.adaptation_update(adaptation=b, actor=engineer, derived_from_adaptations=[a.pk])


def test_descendant_ids_visit_each_node_once(engineer, django_assert_num_queries):
    root, (a, b, c, d) = chain(engineer, 4)
    shortcut = AdaptationFactory(owner=engineer, derived_from_adaptations=[a.pk, d.pk])
    with django_assert_num_queries(1):
        ids = selectors.adaptation_descendant_ids(model_id=root.pk)
    assert ids == {a.pk, b.pk, c.pk, d.pk, shortcut.pk}
    assert selectors.adaptation_descendant_ids(adaptation_id=shortcut.pk) == set()
