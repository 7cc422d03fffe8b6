# ruff: noqa: S608 -- only table names from model _meta and integer constants are interpolated; values are parameters.
"""The walk below an adaptation, read from the grouped rows (``LineageBelow``) and the reach pairs."""

from collections.abc import Sequence

import numpy as np
from django.db import connection

from fmgov.registry.lineage.models import REACH_HOPS, LineageBelow, LineageReach

# A guard, not a business rule: a cycle written by hand ends the walk instead of recursing for ever.
_MAX_DISTANCE = 10_000


def _grouped_rows(start: int, hops: int) -> list[tuple[int, str]]:
    """(base, levels) of the grouped row of the adaptation and of each node a multiple of ``hops`` below it.

    The query follows the nodes exactly ``hops`` down from the adaptation,
    then from each node reached, and so on (``base`` = 0, hops, 2 hops...).
    On PostgreSQL it is the function ``fmgov_lineage_below`` (migration
    0009), whose plan the session keeps (planning it at every call cost
    as much server CPU as a fifth of the walk); it follows the rows'
    ``frontier`` arrays, one index scan for the distinct nodes of a base, and
    returns one row per base, the levels of its grouped rows joined.
    Elsewhere the pair table gives the nodes exactly ``hops`` down, and the
    rows come one per grouped row.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT base, levels FROM fmgov_lineage_below(%s, %s, %s)", [start, hops, _MAX_DISTANCE])
            return cursor.fetchall()
        below, reach = LineageBelow._meta.db_table, LineageReach._meta.db_table
        # SQLite, once ANALYZE has run, plans a join of the pairs with a Bloom filter that it builds again at
        # every step of the recursion, a scan of the whole table each time (6 ms instead of 0.06 on a
        # 5,000-adaptation registry); a list subquery keeps it to index probes. (PostgreSQL plans this form as
        # a scan of the grouped table, so its function keeps the join.)
        cursor.execute(
            f"WITH RECURSIVE go(node, base, levels) AS ("
            f" SELECT adaptation_id, 0, levels FROM {below} WHERE adaptation_id = %s"
            f" UNION SELECT b.adaptation_id, go.base + {hops}, b.levels FROM go JOIN {below} b ON b.adaptation_id IN ("
            f"SELECT r.descendant_id FROM {reach} r WHERE r.ancestor_id = go.node AND r.distance = {hops})"
            f" WHERE go.base < {_MAX_DISTANCE}"
            f") SELECT base, levels FROM go",
            [start],
        )
        return cursor.fetchall()


def merge_levels(rows: Sequence[tuple[int, str]], start: int, hops: int) -> list[tuple[int, int]]:
    """(adaptation_id, shortest depth) from the grouped rows, nearest first then by id; ``start`` left out.

    Each row is (base, levels): the levels of one grouped row, or of several
    joined with ``;`` (PostgreSQL's function joins those of one base); each
    grouped row has ``hops`` parts, so a part's level is its position modulo
    ``hops``. A grouped row ``base`` levels down holds at its level ``k``
    nodes at depth ``base + k`` along one path, so a node's shortest depth is
    the least depth it appears at (longer paths, and a node reached again
    through a cycle written by hand, give the larger ones). Each id is tagged
    with its depth and the least kept per id with array operations: the
    ~2,950 ids below the benchmark's depth-10 node took 0.7-0.8 ms of
    per-level set operations in Python, about as long as the in-memory BFS.
    """
    if not rows:
        return []
    texts = [levels for _, levels in rows]
    joined = ";".join(texts)  # ``hops`` parts per grouped row, in order
    chars = np.frombuffer(joined.encode("ascii"), dtype=np.uint8)
    lengths = np.diff(np.flatnonzero(chars == ord(";")), prepend=-1, append=len(chars)) - 1  # of each part
    per_row = np.fromiter((text.count(";") + 1 for text in texts), dtype=np.int64, count=len(texts))
    part_depths = np.repeat(np.fromiter((base for base, _ in rows), dtype=np.int32, count=len(rows)), per_row)
    part_depths += np.arange(len(lengths), dtype=np.int32) % hops + 1
    depths = np.repeat(part_depths, lengths // 16)  # 16 hex digits an id
    ids = np.frombuffer(bytes.fromhex(joined.replace(";", "")), dtype=">i8")  # big-endian, as stored
    nearest_first = np.argsort(depths, kind="stable")
    ids, depths = ids[nearest_first], depths[nearest_first]
    unique, first = np.unique(ids, return_index=True)  # sorted by id, each at its first (least) depth
    depths = depths[first]
    order = np.argsort(depths, kind="stable")  # by depth, then by id
    order = order[unique[order] != start]
    return list(zip(unique[order].tolist(), depths[order].tolist(), strict=True))


def descendants_below(adaptation_id: int) -> list[tuple[int, int]]:
    """(adaptation_id, shortest depth) of everything below an adaptation, nearest first then by id; one query.

    Only the level-REACH_HOPS nodes not seen before matter at the next base;
    the query cannot tell which those are and follows them all, so it may
    return rows whose nodes are all seen already, never fewer.
    """
    start = int(adaptation_id)
    return merge_levels(_grouped_rows(start, REACH_HOPS), start, REACH_HOPS)
