"""The stored lineage and the lineage reads agree with the recursive definition on random DAGs (issue 18).

Random sequences of adaptation inserts, parent replacements (edge additions
and removals) and refused cycles go through the services, some of them rolled
back; after each step the stored roots and every lineage read are compared
with an answer computed here from the edges by the definition. Run with
DATABASE_URL=postgres://... as well.
"""

import importlib
from functools import cache

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fmgov.core.exceptions import InvalidInput
from fmgov.registry import lineage, selectors, services
from fmgov.registry.lineage import (
    LineageBelow,
    LineageReach,
    LineageRoot,
    compute_reach,
    compute_roots,
    lineage_rebuild,
    upkeep,
    walk,
)
from fmgov.registry.models import AdaptationParent
from fmgov.registry.tests.factories import FoundationModelFactory

pytestmark = pytest.mark.django_db


class Rollback(Exception):
    """Raised inside a block to roll it back."""


def definition() -> tuple[dict, dict, dict]:
    """Descendants with shortest depths, ancestors and weighted roots, by recursion over the stored edges."""
    parents: dict[int, list[tuple[str, int]]] = {}
    for child, model, parent in AdaptationParent.objects.values_list(
        "child_id", "parent_model_id", "parent_adaptation_id"
    ):
        parents.setdefault(child, []).append(("foundation_model", model) if model else ("adaptation", parent))

    @cache
    def up(node: int) -> dict[tuple[str, int], int]:
        """Every ancestor of an adaptation with its shortest distance: 1 for a parent, else 1 + the parent's."""
        result: dict[tuple[str, int], int] = {}
        for kind, parent in parents.get(node, []):
            candidates = [((kind, parent), 1)]
            if kind == "adaptation":
                candidates += [(key, d + 1) for key, d in up(parent).items()]
            for key, d in candidates:
                result[key] = min(d, result.get(key, d))
        return result

    @cache
    def roots(node: int) -> dict[int, float]:
        """Weight 1 split equally among the parents, a model parent's share going to the model."""
        result: dict[int, float] = {}
        for kind, parent in parents[node]:
            shares = {parent: 1.0} if kind == "foundation_model" else roots(parent)
            for model, w in shares.items():
                result[model] = result.get(model, 0.0) + w / len(parents[node])
        return result

    ancestors = {node: up(node) for node in parents}
    below: dict[tuple[str, int], dict[int, int]] = {}
    for node, above in ancestors.items():
        for key, d in above.items():
            below.setdefault(key, {})[node] = d
    return ancestors, below, {node: roots(node) for node in parents}


def stored_below() -> dict[int, list[list[int]]]:
    """The grouped rows read back: ancestor -> ids per level, parsed here from their text."""
    return {
        ancestor: [[int(part[i : i + 16], 16) for i in range(0, len(part), 16)] for part in text.split(";")]
        for ancestor, text in LineageBelow.objects.values_list("adaptation_id", "levels")
    }


def expected_below(reach: dict[tuple[int, int], int]) -> dict[int, list[list[int]]]:
    """(descendant, ancestor) -> distance pairs grouped by ancestor, one sorted list per level up to the span."""
    below: dict[int, list[list[int]]] = {}
    for (node, ancestor), d in sorted(reach.items()):
        below.setdefault(ancestor, [[] for _ in range(lineage.REACH_HOPS)])[d - 1].append(node)
    return below


def assert_agrees(models) -> None:
    ancestors, below, weights = definition()
    stored = {(r.adaptation_id, r.foundation_model_id): (r.depth, r.weight) for r in LineageRoot.objects.all()}
    expected = {
        (node, m): (ancestors[node][("foundation_model", m)], w) for node, ws in weights.items() for m, w in ws.items()
    }
    assert stored.keys() == expected.keys()
    for key, (depth, weight) in expected.items():
        assert stored[key][0] == depth and stored[key][1] == pytest.approx(weight)
    reach = {(r.descendant_id, r.ancestor_id): r.distance for r in LineageReach.objects.all()}
    assert reach == {
        (node, key[1]): d
        for node, above in ancestors.items()
        for key, d in above.items()
        if key[0] == "adaptation" and d <= lineage.REACH_HOPS
    }
    assert stored_below() == expected_below(reach)
    frontiers = dict(LineageBelow.objects.values_list("adaptation_id", "frontier"))
    assert frontiers == {ancestor: levels[-1] for ancestor, levels in expected_below(reach).items()}
    for model in models:
        want = below.get(("foundation_model", model.pk), {})
        assert selectors.adaptation_descendants(model_id=model.pk) == sorted(want.items(), key=lambda p: (p[1], p[0]))
        assert selectors.adaptation_descendant_ids(model_id=model.pk) == set(want)
    for node in ancestors:
        want = below.get(("adaptation", node), {})
        assert selectors.adaptation_descendants(adaptation_id=node) == sorted(want.items(), key=lambda p: (p[1], p[0]))
        assert {r["id"]: r["depth"] for r in selectors.descendant_adaptations(adaptation_id=node)} == want
        got = {(r["kind"], r["id"]): r["depth"] for r in selectors.adaptation_ancestors(adaptation_id=node)}
        assert got == ancestors[node]
        assert dict(selectors.root_models_of([node])[node]) == pytest.approx(weights[node])


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["create", "create", "shortcut", "replace", "cycle"]),
        st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=3),
        st.booleans(),  # roll the step back
    ),
    min_size=1,
    max_size=9,
)


# The reach pairs at a span of 1 and 2 instead of 8, so that the random DAGs (a dozen nodes) are deeper than
# the span: a walk below an adaptation takes several jumps, and a node is reached at several distances (at 2,
# some within a jump, some at its end). The code reads the span at call time, in each module that uses it.
# test_a_chain_deeper_than_the_reach_span checks the real span.
@pytest.mark.parametrize("hops", [1, 2])
@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(operations=OPERATIONS)
def test_stored_lineage_follows_the_definition(engineer, operations, hops, monkeypatch) -> None:
    for module in (lineage, upkeep, walk):  # the span as this test's definition, the upkeep and the walk read it
        monkeypatch.setattr(module, "REACH_HOPS", hops)
    with transaction.atomic():
        models = [FoundationModelFactory(owner=engineer) for _ in range(2)]
        nodes: list = []
        for step, (kind, picks, roll_back) in enumerate(operations):
            try:
                with transaction.atomic():
                    run(kind, picks, step, engineer, models, nodes)
                    if roll_back:
                        raise Rollback
            except Rollback:
                nodes[:] = [n for n in nodes if AdaptationParent.objects.filter(child_id=n.pk).exists()]
            assert_agrees(models)
        transaction.set_rollback(True)


def run(kind: str, picks: list[int], step: int, engineer, models, nodes) -> None:
    pool = [("m", m.pk) for m in models] + [("a", n.pk) for n in nodes]
    chosen = {pool[i % len(pool)] for i in picks}
    parents = {
        "derived_from_models": [pk for k, pk in chosen if k == "m"],
        "derived_from_adaptations": [pk for k, pk in chosen if k == "a"],
    }
    if kind == "create" or not nodes:
        nodes.append(services.adaptation_create(actor=engineer, name=f"node-{step}", kind="fine_tune", **parents))
    elif kind == "shortcut":  # a child of a node and of one of its ancestors: two paths of different lengths
        target = nodes[picks[0] % len(nodes)]
        above = [r["id"] for r in selectors.adaptation_ancestors(adaptation_id=target.pk) if r["kind"] == "adaptation"]
        chosen_parents = [target.pk] + ([above[picks[-1] % len(above)]] if above else [])
        nodes.append(
            services.adaptation_create(
                actor=engineer, name=f"node-{step}", kind="fine_tune", derived_from_adaptations=chosen_parents
            )
        )
    elif kind == "replace":
        target = nodes[picks[0] % len(nodes)]
        downstream = selectors.adaptation_descendant_ids(adaptation_id=target.pk) | {target.pk}
        parents["derived_from_adaptations"] = [pk for pk in parents["derived_from_adaptations"] if pk not in downstream]
        if not any(parents.values()):
            parents["derived_from_models"] = [models[0].pk]
        services.adaptation_update(adaptation=target, actor=engineer, **parents)
    else:  # a parent from below closes a cycle: refused, nothing written
        target = nodes[picks[0] % len(nodes)]
        below = sorted(selectors.adaptation_descendant_ids(adaptation_id=target.pk) | {target.pk})
        with pytest.raises(InvalidInput):
            services.adaptation_update(
                adaptation=target, actor=engineer, derived_from_adaptations=[below[picks[-1] % len(below)]]
            )


def test_rebuild_gives_what_the_services_maintained(engineer, monkeypatch) -> None:
    monkeypatch.setattr(upkeep, "_COPY_ABOVE", 0)  # on PostgreSQL, the COPY a large rebuild uses
    root = FoundationModelFactory(owner=engineer)
    other = FoundationModelFactory(owner=engineer)
    a = services.adaptation_create(actor=engineer, name="a", kind="lora", derived_from_models=[root.pk])
    b = services.adaptation_create(
        actor=engineer, name="b", kind="lora", derived_from_models=[other.pk], derived_from_adaptations=[a.pk]
    )
    c = services.adaptation_create(actor=engineer, name="c", kind="lora", derived_from_adaptations=[a.pk, b.pk])
    before = sorted(LineageRoot.objects.values_list("adaptation_id", "foundation_model_id", "depth", "weight"))
    reach = sorted(LineageReach.objects.values_list("descendant_id", "ancestor_id", "distance"))
    grouped = stored_below()
    assert lineage_rebuild() == {"adaptations": 3, "rows": len(before), "reach_rows": 3, "below_rows": 2}
    assert sorted(LineageRoot.objects.values_list("adaptation_id", "foundation_model_id", "depth", "weight")) == before
    assert sorted(LineageReach.objects.values_list("descendant_id", "ancestor_id", "distance")) == reach
    assert reach == sorted([(b.pk, a.pk, 1), (c.pk, a.pk, 1), (c.pk, b.pk, 1)])
    empty = [[]] * (lineage.REACH_HOPS - 1)
    assert stored_below() == grouped == {a.pk: [sorted([b.pk, c.pk]), *empty], b.pk: [[c.pk], *empty]}
    # c rests 1/2 on a (all root) and 1/2 on b (half root, half other): 3/4 root, 1/4 other; 2 below root via a.
    c_roots = {m: (d, w) for _, m, d, w in before if _ == max(x[0] for x in before)}
    assert c_roots == {root.pk: (2, pytest.approx(0.75)), other.pk: (2, pytest.approx(0.25))}


def test_migration_groups_the_existing_pairs(engineer) -> None:
    """0008 fills the grouped rows from the pairs a registry already holds, as the services would have."""
    from django.apps import apps

    populate = importlib.import_module("fmgov.registry.migrations.0008_lineage_below").populate
    model = FoundationModelFactory(owner=engineer)
    a = services.adaptation_create(actor=engineer, name="a", kind="lora", derived_from_models=[model.pk])
    b = services.adaptation_create(actor=engineer, name="b", kind="lora", derived_from_adaptations=[a.pk])
    services.adaptation_create(actor=engineer, name="c", kind="lora", derived_from_adaptations=[a.pk, b.pk])
    maintained = stored_below()
    LineageBelow.objects.all().delete()
    populate(apps, None)
    assert stored_below() == maintained and len(maintained) == 2


def test_a_cycle_written_by_hand_ends_the_computation() -> None:
    roots = compute_roots({1: [("a", 2)], 2: [("a", 1), ("m", 9)]})
    assert roots == {1: {}, 2: {9: (1, 0.5)}}
    assert compute_reach({1: [("a", 2)], 2: [("a", 1), ("m", 9)]}) == {1: {2: 1}, 2: {1: 1, 2: 2}}


def test_a_chain_deeper_than_the_reach_span(engineer) -> None:
    """Twenty levels: the walk below the top jumps twice, and the pairs stop at the span."""
    model = FoundationModelFactory(owner=engineer)
    chain = [services.adaptation_create(actor=engineer, name="n0", kind="lora", derived_from_models=[model.pk])]
    for i in range(1, 20):
        chain.append(
            services.adaptation_create(
                actor=engineer, name=f"n{i}", kind="lora", derived_from_adaptations=[chain[-1].pk]
            )
        )
    # A shortcut from the top to level 12 makes level 12 and all below it eleven levels nearer.
    services.adaptation_update(
        adaptation=chain[12], actor=engineer, derived_from_adaptations=[chain[11].pk, chain[0].pk]
    )
    want = [(n.pk, i if i < 12 else i - 11) for i, n in enumerate(chain[1:], start=1)]
    assert selectors.adaptation_descendants(adaptation_id=chain[0].pk) == sorted(want, key=lambda p: (p[1], p[0]))
    within = {n.pk for n in chain[1 : lineage.REACH_HOPS + 1] + chain[12 : 12 + lineage.REACH_HOPS]}
    assert set(LineageReach.objects.filter(ancestor_id=chain[0].pk).values_list("descendant_id", flat=True)) == within
    assert not LineageReach.objects.filter(distance__gt=lineage.REACH_HOPS).exists()
