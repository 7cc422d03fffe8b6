"""The walk below an adaptation: merging the grouped rows into shortest depths, and the one query it takes.

``merge_levels`` is checked here on hand-made rows (the property test in
test_lineage_store checks it on random DAGs through the services): a node in
several rows, at several depths, or back at the start through a cycle.
"""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fmgov.registry.lineage import LineageBelow, walk
from fmgov.registry.lineage.upkeep import _levels_text
from fmgov.registry.tests.factories import chain


def _row(base: int, *levels: list[int]) -> tuple[int, str]:
    return base, _levels_text([list(level) for level in levels])


def test_each_node_at_its_least_depth_nearest_first_then_by_id() -> None:
    rows = [
        _row(0, [5, 3], [9, 7]),  # 3, 5 at depth 1; 7, 9 at 2: 7 and 9 the nodes 2 down
        _row(2, [11, 12], [5, 13]),  # below 7: 5 again (deeper: dropped), 13 at depth 4
        _row(2, [12, 14], [13, 2**40 + 1]),  # below 9: 12 in both rows (once), a large id
    ]
    assert walk.merge_levels(rows, start=1, hops=2) == [
        (3, 1),
        (5, 1),
        (7, 2),
        (9, 2),
        (11, 3),
        (12, 3),
        (14, 3),
        (13, 4),
        (2**40 + 1, 4),
    ]


def test_rows_in_any_order_give_the_same_answer() -> None:
    rows = [_row(0, [2], [3]), _row(2, [4], [2]), _row(4, [], [])]
    assert walk.merge_levels(rows[::-1], start=1, hops=2) == walk.merge_levels(rows, start=1, hops=2)
    assert walk.merge_levels(rows, start=1, hops=2) == [(2, 1), (3, 2), (4, 3)]


def test_the_grouped_rows_of_a_base_joined_in_one_row_give_the_same_answer() -> None:
    """PostgreSQL's function joins the levels of one base with ``;``: a part's level is its position modulo hops."""
    rows = [_row(0, [5, 3], [9, 7]), _row(2, [11, 12], [5, 13]), _row(2, [12, 14], [13, 15]), _row(4, [], [16])]
    joined = [rows[0], (2, rows[1][1] + ";" + rows[2][1]), rows[3]]
    assert walk.merge_levels(joined, start=1, hops=2) == walk.merge_levels(rows, start=1, hops=2)
    assert walk.merge_levels(joined, start=1, hops=2)[-3:] == [(13, 4), (15, 4), (16, 6)]


def test_the_start_reached_again_through_a_cycle_is_left_out() -> None:
    assert walk.merge_levels([_row(0, [2], [1]), _row(2, [2], [1])], start=1, hops=2) == [(2, 1)]
    assert walk.merge_levels([], start=1, hops=2) == []


@pytest.mark.django_db
def test_the_walk_is_one_query(engineer) -> None:
    """On PostgreSQL the function of migration 0009, elsewhere the query inline; each one statement."""
    _, nodes = chain(engineer, 12)
    with CaptureQueriesContext(connection) as queries:
        below = walk.descendants_below(nodes[0].pk)
    assert below == [(node.pk, depth) for depth, node in enumerate(nodes[1:], start=1)]
    assert len(queries) == 1
    assert ("fmgov_lineage_below" in queries[0]["sql"]) == (connection.vendor == "postgresql")


@pytest.mark.django_db
def test_migration_fills_each_frontier_from_the_pairs(engineer) -> None:
    """0009 gives the rows a registry already holds their last level as the id list, as the upkeep writes it."""
    fill = importlib.import_module("fmgov.registry.migrations.0009_lineage_below_walk").fill
    _, nodes = chain(engineer, 10)
    maintained = dict(LineageBelow.objects.values_list("adaptation_id", "frontier"))
    assert maintained[nodes[0].pk] == [nodes[8].pk] and maintained[nodes[1].pk] == [nodes[9].pk]
    assert maintained[nodes[2].pk] == []
    LineageBelow.objects.update(frontier=[])

    def execute(sql: str, params=()) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    fill(apps, SimpleNamespace(connection=connection, execute=execute))
    assert dict(LineageBelow.objects.values_list("adaptation_id", "frontier")) == maintained
    assert walk.descendants_below(nodes[0].pk) == [(node.pk, depth) for depth, node in enumerate(nodes[1:], start=1)]
