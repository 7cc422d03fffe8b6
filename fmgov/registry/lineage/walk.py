# ruff: noqa: S608 -- only table names from model _meta and integer constants are interpolated; values are parameters.
"""The walk below an adaptation, read from the grouped rows (``LineageBelow``) and the reach pairs."""

import sys
from array import array
from itertools import repeat

from django.db import connection

from fmgov.registry.lineage.models import REACH_HOPS, LineageBelow, LineageReach

# A guard, not a business rule: a cycle written by hand ends the walk instead of recursing for ever.
_MAX_DISTANCE = 10_000

_SWAP = sys.byteorder == "little"  # the stored ids are big-endian


def _ids(text: str) -> array:
    ids = array("q", bytes.fromhex(text))
    if _SWAP:
        ids.byteswap()
    return ids


def descendants_below(adaptation_id: int) -> list[tuple[int, int]]:
    """(adaptation_id, shortest depth) of everything below an adaptation, nearest first then by id; one query.

    The query follows the pairs exactly REACH_HOPS down from the adaptation,
    then from each node reached, and so on, and returns the grouped row of
    each (``base`` = 0, 8, 16...). A node at shortest depth ``L`` sits ``L -
    base`` below the node ``base`` levels down on a shortest path to it, so
    taking the rows by base and each row's levels in order, a node's first
    appearance is its shortest depth; the set of nodes seen so far removes
    the later ones (longer paths, or a node reached again through a cycle
    written by hand). Only the level-REACH_HOPS nodes not seen before matter
    at the next base; the query cannot tell which those are and follows them
    all, so it may return rows whose nodes are all seen already, never fewer.
    """
    hops, start = REACH_HOPS, int(adaptation_id)
    below, reach = LineageBelow._meta.db_table, LineageReach._meta.db_table
    if connection.vendor == "postgresql":
        step = (
            f" SELECT r.descendant_id, go.base + {hops}, b.levels FROM go"
            f" JOIN {reach} r ON r.ancestor_id = go.node AND r.distance = {hops}"
            f" JOIN {below} b ON b.adaptation_id = r.descendant_id"
        )
    else:
        # The same rows. SQLite, once ANALYZE has run, plans the join above with a Bloom filter on the pairs
        # that it builds again at every step of the recursion, a scan of the whole table each time (6 ms
        # instead of 0.06 on a 5,000-adaptation registry); a list subquery keeps it to index probes.
        # PostgreSQL plans this form as a scan of the grouped table, so it keeps the join.
        step = (
            f" SELECT b.adaptation_id, go.base + {hops}, b.levels FROM go JOIN {below} b ON b.adaptation_id IN ("
            f"SELECT r.descendant_id FROM {reach} r WHERE r.ancestor_id = go.node AND r.distance = {hops})"
        )
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE go(node, base, levels) AS ("
            f" SELECT adaptation_id, 0, levels FROM {below} WHERE adaptation_id = %s"
            f" UNION{step} WHERE go.base < {_MAX_DISTANCE}"
            f") SELECT base, levels FROM go",  # taken by base below
            [start],
        )
        rows = cursor.fetchall()
    by_base: dict[int, list[str]] = {}
    for base, levels in rows:
        by_base.setdefault(base, []).append(levels)
    seen, found = {start}, []
    for base, texts in sorted(by_base.items()):
        parts = ";".join(texts).split(";")
        for level in range(hops):
            layer = set(_ids("".join(parts[level::hops])))  # this level of every row, one parse
            layer -= seen
            seen |= layer
            found.extend(zip(sorted(layer), repeat(base + level + 1)))
    return found
