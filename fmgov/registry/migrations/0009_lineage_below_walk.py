"""The walk below an adaptation: each grouped row's last level as an id array, and a PL/pgSQL function (issue 18).

Why a function: a PL/pgSQL function keeps its query's plan for the session,
so the walk is planned once per connection instead of at every call (0.3-0.4
ms of the server's CPU, a fifth of the walk below the benchmark's depth-10
node). A prepared statement would save the same, but it lives on one server
connection, which a pooler in transaction mode does not keep.

Why the ``frontier`` column: with each grouped row's last level (the nodes
exactly ``hops`` below) as a ``bigint[]`` in the row itself, one index scan
(``= ANY``) fetches the next rows, instead of a pair-table probe and a
grouped-row probe per node (about 30% less server CPU). The function keeps
one working row per base: the distinct frontier of the whole base, fetched
with one index scan, and the levels of the rows found joined with ``;``
(each row keeps its ``hops`` parts, so the caller reads the level of a part
from its position); about 25% less CPU again than one row per node reached,
which fetched a node's grouped row once per path to it. ``hops`` and the
guard against a hand-written cycle are parameters, so the caller's
``REACH_HOPS`` is the one used.

Existing rows are filled from the reach pairs at the span they were built
with (8). On databases other than PostgreSQL the column is JSON text, no
function is made, and the walk keeps the pair table.
"""

from django.db import migrations

import fmgov.registry.lineage.models

SPAN = 8  # REACH_HOPS when these rows were written

CREATE = """
CREATE OR REPLACE FUNCTION fmgov_lineage_below(start bigint, hops integer, max_distance integer)
RETURNS TABLE (base integer, levels text) LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY WITH RECURSIVE go(base, frontier, levels) AS (
        SELECT 0, b.frontier, b.levels FROM registry_lineagebelow b WHERE b.adaptation_id = start
        UNION ALL
        SELECT go.base + hops, step.frontier, step.levels FROM go, LATERAL (
            SELECT array_agg(DISTINCT u.node) FILTER (WHERE u.node IS NOT NULL) AS frontier,
                string_agg(b.levels, ';') FILTER (WHERE u.n IS NULL OR u.n = 1) AS levels
            FROM registry_lineagebelow b LEFT JOIN LATERAL unnest(b.frontier) WITH ORDINALITY u(node, n) ON TRUE
            WHERE b.adaptation_id = ANY(go.frontier)
        ) step
        WHERE cardinality(go.frontier) > 0 AND go.base < max_distance
    ) SELECT go.base, go.levels FROM go WHERE go.levels IS NOT NULL;
END
$$
"""

DROP = "DROP FUNCTION IF EXISTS fmgov_lineage_below(bigint, integer, integer)"


def fill(apps, schema_editor) -> None:
    """Each row's frontier from the pairs exactly SPAN below its adaptation; then, on PostgreSQL, the walk."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "UPDATE registry_lineagebelow b SET frontier = s.ids FROM (SELECT ancestor_id,"
            " array_agg(descendant_id ORDER BY descendant_id) AS ids FROM registry_lineagereach"
            " WHERE distance = %s GROUP BY ancestor_id) s WHERE b.adaptation_id = s.ancestor_id",
            [SPAN],
        )
        schema_editor.execute(CREATE)
        return
    reach = apps.get_model("registry", "LineageReach")
    below = apps.get_model("registry", "LineageBelow")
    frontier: dict[int, list[int]] = {}
    pairs = reach.objects.filter(distance=SPAN).order_by("ancestor_id", "descendant_id")
    for ancestor, descendant in pairs.values_list("ancestor_id", "descendant_id").iterator(chunk_size=20_000):
        frontier.setdefault(ancestor, []).append(descendant)
    rows = [below(adaptation_id=ancestor, frontier=ids) for ancestor, ids in frontier.items()]
    below.objects.bulk_update(rows, ["frontier"], batch_size=2000)


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0008_lineage_below"),
    ]

    operations = [
        migrations.AddField(
            model_name="lineagebelow",
            name="frontier",
            field=fmgov.registry.lineage.models.IdListField(
                default=list, verbose_name="adaptations exactly REACH_HOPS below"
            ),
        ),
        migrations.RunPython(fill, drop),
    ]
