"""Descendants of a foundation model: the recursive-CTE query against a Python BFS.

Builds a DAG of 100,000 adaptations under one foundation model, 50 levels deep
(2,000 per level). Every adaptation has a parent on the level above; a share of
them (10% by default) has a second parent one to three levels up, so the DAG
has diamonds and nodes reachable at several depths. Then it times
``fmgov.registry.selectors.adaptation_descendants`` (one query) against a
breadth-first walk in Python over the same edges already loaded in memory,
in the same run, and prints the ratio. Both answers are compared. For
reference it also times what a Python walk really costs in a web process
(reading every edge out of the database first) and the recursive CTE with
depths that the selectors used before issue 18 (it walks every reachable
(node, depth) pair). The stored lineage (roots below each model, the reach
pairs at most 8 levels apart, and the same pairs grouped by ancestor that answer
below an adaptation) is rebuilt once after the bulk insert
(``fmgov.registry.lineage.lineage_rebuild``), as ``seed_scale`` does. On a
shared machine the wall-clock medians move with the load, so below the
depth-10 node it also reports CPU time per call, this
process's plus the PostgreSQL server process's (read from /proc when the server
is local), against the BFS's. Every figure is also printed as one JSON line
(``make bench`` tabulates them).

SQLite by default (a temporary database file, removed afterwards); PostgreSQL
when DATABASE_URL is set (a throwaway database, created and dropped).

    python benchmarks/lineage.py [--adaptations 100000] [--depth 50] [--second-parent 0.1] [--repeat 5]

The rows are bulk-inserted inside ``bulk_writes_recorded()``: benchmark data is
not a governance write, so no audit events are recorded for it.
"""

import argparse
import os
import random
import statistics
import sys
import time
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fmgov.settings.test")
os.environ.setdefault("FMGOV_TEST_SESSION", f"bench-lineage-{os.getpid()}")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import emit  # noqa: E402


def build(adaptations: int, depth: int, second_parent: float, seed: int) -> tuple[int, list[tuple[int, str, int]]]:
    """Insert the DAG; return the root model id and the edges as (child, "m"|"a", parent)."""
    from django.contrib.auth import get_user_model

    from audits.base import bulk_writes_recorded
    from fmgov.registry.models import Adaptation, AdaptationParent, FoundationModel

    rng = random.Random(seed)
    owner = get_user_model().objects.create(username="bench")
    root = FoundationModel.objects.create(
        name="bench-root", provider="bench", modality="text", access="open_weights", owner=owner
    )
    per_level = [adaptations // depth + (1 if i < adaptations % depth else 0) for i in range(depth)]
    with bulk_writes_recorded():
        levels: list[list[int]] = []
        counter = 0
        for size in per_level:
            batch = [Adaptation(name=f"a{counter + i}", kind="fine_tune", owner=owner) for i in range(size)]
            counter += size
            created = Adaptation.objects.bulk_create(batch, batch_size=2000)
            levels.append([a.pk for a in created])
        edges: list[tuple[int, str, int]] = []
        for level, ids in enumerate(levels):
            for child in ids:
                if level == 0:
                    edges.append((child, "m", root.pk))
                    continue
                edges.append((child, "a", rng.choice(levels[level - 1])))
                if rng.random() < second_parent:
                    up = rng.randint(1, min(3, level))
                    other = rng.choice(levels[level - up])
                    if other != edges[-1][2]:
                        edges.append((child, "a", other))
        rows = [
            AdaptationParent(child_id=c, parent_model_id=p if kind == "m" else None,
                             parent_adaptation_id=p if kind == "a" else None)
            for c, kind, p in edges
        ]  # fmt: skip
        AdaptationParent.objects.bulk_create(rows, batch_size=5000)
    from fmgov.registry.lineage import lineage_rebuild

    lineage_rebuild()
    with connection.cursor() as cursor:
        # What autovacuum soon does after a bulk load: planner statistics for the fresh tables and, on
        # PostgreSQL, pages marked all-visible, without which an index-only scan visits the table for every row.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return root.pk, edges


def depth_cte(column: str, start: int) -> list[tuple[int, int]]:
    """The selectors' query before issue 18: every (adaptation, depth) pair, then the minimum per adaptation."""
    sql = (
        "WITH RECURSIVE walk(adaptation_id, depth) AS ("
        f" SELECT child_id, 1 FROM registry_adaptationparent WHERE {column} = %s UNION"
        " SELECT e.child_id, walk.depth + 1 FROM registry_adaptationparent e"
        " JOIN walk ON e.parent_adaptation_id = walk.adaptation_id WHERE walk.depth < 10000)"
        " SELECT adaptation_id, MIN(depth) AS depth FROM walk GROUP BY adaptation_id ORDER BY depth, adaptation_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [start])
        return cursor.fetchall()


def pair_walk(start: int) -> list[tuple[int, int]]:
    """The walk below an adaptation before the grouped rows: one row per reach pair, the minimum taken in SQL."""
    sql = (
        "WITH RECURSIVE hop(node, dist, go) AS ( SELECT CAST(%s AS bigint), 0, TRUE UNION"
        " SELECT r.descendant_id, hop.dist + r.distance, r.distance = 8 FROM hop"
        " JOIN registry_lineagereach r ON r.ancestor_id = hop.node WHERE hop.go AND hop.dist < 10000"
        "), below(adaptation_id, depth) AS (SELECT node, MIN(dist) FROM hop WHERE dist > 0 GROUP BY node)"
        " SELECT adaptation_id, depth FROM below ORDER BY depth, adaptation_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [start])
        return cursor.fetchall()


def bfs(children: dict[tuple[str, int], list[int]], start: tuple[str, int]) -> dict[int, int]:
    """Shortest depth of every descendant of ``start`` (("m", id) or ("a", id)): the in-memory baseline."""
    depths: dict[int, int] = {}
    queue = deque((c, 1) for c in children.get(start, ()))
    while queue:
        node, d = queue.popleft()
        if node in depths:
            continue
        depths[node] = d
        for c in children.get(("a", node), ()):
            if c not in depths:
                queue.append((c, d + 1))
    return depths


def load_children() -> dict[tuple[str, int], list[int]]:
    """Every edge read from the database into an adjacency map: what a BFS would have to do first."""
    from fmgov.registry.models import AdaptationParent

    children: dict[tuple[str, int], list[int]] = {}
    rows = AdaptationParent.objects.values_list("child_id", "parent_model_id", "parent_adaptation_id")
    for child, model, parent in rows.iterator(chunk_size=10_000):
        key = ("m", model) if model is not None else ("a", parent)
        children.setdefault(key, []).append(child)
    return children


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def cpu_clock():
    """Seconds of CPU so far: this process's, plus the database server process's when it is local PostgreSQL.

    None when the server's /proc entry cannot be read (another host or user).
    """
    if connection.vendor != "postgresql":
        return time.process_time
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        stat = Path(f"/proc/{cursor.fetchone()[0]}/stat")
    try:
        stat.read_text()
    except OSError:
        return None

    def clock() -> float:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return time.process_time() + (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    return clock


def cpu_per_call(fns: list, calls: int, rounds: int = 5) -> list[float] | None:
    """Seconds of CPU per call of each function (``cpu_clock``): the median of rounds taken in turns.

    Ticks are 10 ms, so each round makes many calls.
    """
    clock = cpu_clock()
    if clock is None:
        return None
    per_round: list[list[float]] = [[] for _ in fns]
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            start = clock()
            for _ in range(calls):
                fn()
            per_round[i].append((clock() - start) / calls)
    return [statistics.median(r) for r in per_round]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--adaptations", type=int, default=100_000)
    parser.add_argument("--depth", type=int, default=50)
    parser.add_argument("--second-parent", type=float, default=0.1, help="share of adaptations with two parents")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--from-depth", type=int, default=10, help="depth of the adaptation for the subgraph query")
    args = parser.parse_args()

    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        from fmgov.registry.selectors import adaptation_ancestors, adaptation_descendant_ids, adaptation_descendants

        start = time.perf_counter()
        root_id, edges = build(args.adaptations, args.depth, args.second_parent, args.seed)
        build_seconds = time.perf_counter() - start

        children: dict[tuple[str, int], list[int]] = {}
        for child, kind, parent in edges:
            children.setdefault((kind, parent), []).append(child)

        adaptation_descendants(model_id=root_id)  # warm the connection and the page cache
        root = ("m", root_id)
        cte_seconds, cte_rows = timed(lambda: adaptation_descendants(model_id=root_id), args.repeat)
        bfs_seconds, bfs_depths = timed(lambda: bfs(children, root), args.repeat)
        assert dict(cte_rows) == bfs_depths, "the CTE and the BFS disagree"
        before_seconds, before_rows = timed(lambda: depth_cte("parent_model_id", root_id), max(1, args.repeat // 2))
        assert dict(before_rows) == bfs_depths
        ids_seconds, ids = timed(lambda: adaptation_descendant_ids(model_id=root_id), args.repeat)
        assert ids == set(bfs_depths)
        load_seconds, loaded = timed(lambda: bfs(load_children(), root), args.repeat)
        assert loaded == bfs_depths

        # A typical question: what depends on one adaptation further down? Of the first 20 at that
        # depth, the one with the most descendants.
        candidates = [a for a, d in bfs_depths.items() if d == args.from_depth][:20]
        middle = max(candidates, key=lambda a: (len(bfs(children, ("a", a))), -a))
        # A few milliseconds a call: medians of many, so that one call delayed by another process does not
        # decide the figure. One walk after the other, not in turns: taken in turns, the BFS ran 2.5x slower
        # right after each database call (0.9 -> 2.5 ms; its caches cold after the process slept on the
        # socket), which flattered the ratio. CPU per call is measured in rounds taken in turns, each round
        # many calls of one walk.
        sub_repeat = max(args.repeat, 51)
        sub_walks = [
            lambda: adaptation_descendants(adaptation_id=middle),
            lambda: bfs(children, ("a", middle)),
            lambda: pair_walk(middle),
        ]
        (sub_cte_seconds, sub_rows), (sub_bfs_seconds, sub_depths), (pairs_seconds, pairs_rows) = (
            timed(walk, sub_repeat) for walk in sub_walks
        )
        assert dict(sub_rows) == sub_depths
        assert dict(pairs_rows) == sub_depths
        cpu = cpu_per_call(sub_walks, 40)
        sub_cpu, sub_bfs_cpu, pairs_cpu = cpu if cpu else (None, None, None)
        sub_load_seconds, _ = timed(lambda: bfs(load_children(), ("a", middle)), args.repeat)
        sub_before_seconds, _ = timed(lambda: depth_cte("parent_adaptation_id", middle), args.repeat)
        deepest = max(bfs_depths, key=lambda a: (bfs_depths[a], a))
        up_seconds, up_rows = timed(lambda: adaptation_ancestors(adaptation_id=deepest), args.repeat)
        parents_of: dict[int, list[int]] = {}
        for child, kind, parent in edges:
            if kind == "a":
                parents_of.setdefault(child, []).append(parent)

        upward = {("a", c): ps for c, ps in parents_of.items()}

        def up_bfs() -> dict[int, int]:
            return bfs(upward, ("a", deepest))

        up_bfs_seconds, up_depths = timed(up_bfs, args.repeat)
        assert {r["id"]: r["depth"] for r in up_rows if r["kind"] == "adaptation"} == up_depths
        with connection.cursor() as cursor:
            # The work the CTE does: distinct (adaptation, depth) pairs, since UNION keeps one row per pair.
            cursor.execute(
                "WITH RECURSIVE walk(adaptation_id, depth) AS ("
                " SELECT child_id, 1 FROM registry_adaptationparent WHERE parent_model_id = %s UNION"
                " SELECT e.child_id, walk.depth + 1 FROM registry_adaptationparent e"
                " JOIN walk ON e.parent_adaptation_id = walk.adaptation_id) SELECT COUNT(*) FROM walk",
                [root_id],
            )
            pairs = cursor.fetchone()[0]
        vendor = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
        version = connection.pg_version if vendor == "PostgreSQL" else None
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()

    two_parents = len(edges) - args.adaptations
    print(f"database: {vendor}{f' (server {version})' if version else ''}")
    print(
        f"DAG: {args.adaptations:,} adaptations under one model, {len(edges):,} edges "
        f"({two_parents:,} second parents), depth {max(bfs_depths.values())}; built in {build_seconds:.1f}s"
    )
    print(f"(adaptation, depth) pairs the depth CTE walks from the root: {pairs:,}")
    ms = 1000
    print(f"\nfrom the root model (all {len(cte_rows):,} descendants), medians of {args.repeat}:")
    print(f"  adaptation_descendants (stored/BFS):        {cte_seconds * ms:9,.1f} ms")
    print(f"  Python BFS over in-memory edges (baseline):  {bfs_seconds * ms:9,.1f} ms")
    print(f"  ratio CTE/BFS:                               {cte_seconds / bfs_seconds:9.2f}")
    print(
        f"  recursive CTE, ids only (affected deployments, cycle check): {ids_seconds * ms:,.1f} ms"
        f" (ratio to BFS {ids_seconds / bfs_seconds:.2f})"
    )
    print(
        f"  reading every edge from the database, then the BFS: {load_seconds * ms:,.1f} ms"
        f" (CTE with depths / this: {cte_seconds / load_seconds:.2f})"
    )
    print(f"  before issue 18, the recursive CTE with depths: {before_seconds * ms:,.1f} ms")
    print(f"\nfrom one adaptation at depth {args.from_depth} ({len(sub_rows):,} descendants), medians of {sub_repeat}:")
    print(f"  adaptation_descendants (stored/BFS):        {sub_cte_seconds * ms:9,.3f} ms")
    print(f"  Python BFS over in-memory edges (baseline):  {sub_bfs_seconds * ms:9,.3f} ms")
    print(f"  ratio CTE/BFS:                               {sub_cte_seconds / sub_bfs_seconds:9.2f}")
    print(
        f"  reading every edge from the database, then the BFS: {sub_load_seconds * ms:,.1f} ms"
        f" (CTE / this: {sub_cte_seconds / sub_load_seconds:.3f})"
    )
    print(f"  before issue 18, the recursive CTE with depths: {sub_before_seconds * ms:,.3f} ms")
    print(
        f"  the reach-pair walk the grouped rows replaced: {pairs_seconds * ms:,.3f} ms"
        + (f", CPU per call {pairs_cpu * ms:,.3f} ms" if pairs_cpu else "")
    )
    if sub_cpu:
        print(
            f"  CPU per call, this process + the server's: {sub_cpu * ms:,.3f} ms; the BFS: {sub_bfs_cpu * ms:,.3f} ms"
            f" (ratio {sub_cpu / sub_bfs_cpu:.2f})"
        )
    print(
        f"\nancestors of the deepest adaptation ({len(up_rows)} nodes): {up_seconds * ms:,.3f} ms,"
        f" BFS {up_bfs_seconds * ms:,.3f} ms"
    )
    emit(
        "lineage: descendants of the root, with depths",
        cte_seconds * ms,
        baseline=bfs_seconds * ms,
        goal=2.0,
        unit="ms",
    )
    emit("lineage: descendants of the root, absolute", cte_seconds * ms, goal=100.0, unit="ms")
    emit(
        "lineage: descendants of the root, before (depth CTE)",
        before_seconds * ms,
        baseline=bfs_seconds * ms,
        unit="ms",
    )
    emit(
        f"lineage: descendants of a depth-{args.from_depth} node",
        sub_cte_seconds * ms,
        baseline=sub_bfs_seconds * ms,
        goal=2.0,
        unit="ms",
    )
    emit(
        f"lineage: descendants of a depth-{args.from_depth} node, before",
        sub_before_seconds * ms,
        baseline=sub_bfs_seconds * ms,
        unit="ms",
    )
    emit(
        f"lineage: descendants of a depth-{args.from_depth} node, before (reach-pair walk)",
        pairs_seconds * ms,
        baseline=sub_bfs_seconds * ms,
        unit="ms",
    )
    if sub_cpu:
        emit(
            f"lineage: descendants of a depth-{args.from_depth} node, CPU (process + server)",
            sub_cpu * ms,
            baseline=sub_bfs_cpu * ms,
            goal=2.0,
            unit="ms",
        )
        emit(
            f"lineage: descendants of a depth-{args.from_depth} node, before (reach-pair walk), CPU",
            pairs_cpu * ms,
            baseline=sub_bfs_cpu * ms,
            unit="ms",
        )
    emit("lineage: ancestors of the deepest node", up_seconds * ms, baseline=up_bfs_seconds * ms, unit="ms")


if __name__ == "__main__":
    main()
