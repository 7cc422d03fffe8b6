"""Stored lineage: for every adaptation, the foundation models it rests on, how far below each and its share.

Why a table: the questions asked most often ("what rests on this model?", "which
providers does this deployment depend on, and how much?") become index scans
instead of recursive walks. A closure table (every ancestor of every node) would
hold tens of millions of rows on a 100,000-adaptation DAG with fan-in, and an
edge near the top would write ancestors x descendants rows; this table holds
one row per (adaptation, root foundation model), usually one or two.

``depth`` is the shortest distance from the model down to the adaptation;
``weight`` is the adaptation's lineage share in the model (each adaptation
splits its weight equally among its parents, so the weights of one adaptation
sum to 1). ``lineage_parents_written`` keeps the table right: the adaptation
services call it right after they write an adaptation's parent edges, in the
same transaction, and it recomputes the adaptation and everything downstream
(a new adaptation has nothing downstream: a few small queries). Bulk loads
(benchmarks, ``seed_scale``) call ``lineage_rebuild`` once at the end.

``LineageReach`` answers "what is below this adaptation, how far down?" without
probing the edges once per node: it holds every pair of adaptations at most
``REACH_HOPS`` apart with their shortest distance (a closure table cut at 8
hops: about eleven rows per adaptation on the benchmark DAG, instead of the
full closure's ~160). A walk below an adaptation then jumps 8 levels per index
probe (``descendants_below``): a descendant's shortest distance is the best
``8j + d`` over the nodes at exactly ``8j`` on the way, since the first ``8j``
steps of a shortest path are a shortest path. A changed parent edge of C can
only change pairs whose shortest path runs through C, so only C and what lies
fewer than 8 levels below it are recomputed, in the same transaction.

``LineageBelow`` holds the same pairs grouped by ancestor: one row per
adaptation with something below it, its descendants 1..8 levels down as text,
one ``;``-separated part per level, each id as 16 hex digits (big-endian
64 bits: a level of one row, or of all rows joined, is one ``bytes.fromhex``
into an array of ids, which took a quarter of the time ``json.loads`` of
comma-separated ids did). The walk below an
adaptation reads it (``descendants_below``): one row per node 8j levels down
instead of one per pair, ~207 rows instead of ~2,900 pairs below the
benchmark's depth-10 node. Each row's last level is also stored as an id
array (``frontier``); on PostgreSQL the walk is a PL/pgSQL function
(migration 0009, its plan kept by the session) that follows the
distinct frontier of each base with one index scan and returns one row per
base, the levels joined; on SQLite the pair table finds the nodes 8 down.
The shortest distances come from array operations here (each id tagged
with its depth, the least kept). Reading the pair rows one by one (and taking
the minimum per node in SQL) cost 5-6 ms of server CPU there, against a 1.4 ms
in-memory BFS. The rows of the ancestors of every recomputed pair are regrouped
in the same transaction.

The package, by concern: ``models`` (the three tables), ``walk`` (the read below an
adaptation) and ``upkeep`` (computing and writing the rows, and the hooks the
services and bulk loads call).
"""

from fmgov.registry.lineage.models import REACH_HOPS, LineageBelow, LineageReach, LineageRoot
from fmgov.registry.lineage.upkeep import _below_rows as _below_rows  # migration 0008 groups pairs with these two
from fmgov.registry.lineage.upkeep import _levels_text as _levels_text
from fmgov.registry.lineage.upkeep import compute_reach, compute_roots, lineage_parents_written, lineage_rebuild
from fmgov.registry.lineage.walk import descendants_below

__all__ = [
    "REACH_HOPS",
    "LineageBelow",
    "LineageReach",
    "LineageRoot",
    "compute_reach",
    "compute_roots",
    "descendants_below",
    "lineage_parents_written",
    "lineage_rebuild",
]
