"""The walk's PostgreSQL function returns one row per base, its grouped rows' levels joined (issue 18).

Why: 0010's function kept one working row per node reached and fetched each
node's grouped row once per path to it (292 fetches for 207 nodes below the
benchmark's depth-10 node), then dropped the repeats. Here each step is one
row: the distinct frontier of the whole base, fetched with one index scan,
and the levels of the rows found joined with ``;`` (each row keeps its
``hops`` parts, so the caller reads the level of a part from its position).
About 25% less CPU for the query, and 5 rows to read instead of 207.
"""

from django.db import migrations

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

# 0010's body, for going back.
PREVIOUS = """
CREATE OR REPLACE FUNCTION fmgov_lineage_below(start bigint, hops integer, max_distance integer)
RETURNS TABLE (base integer, levels text) LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY WITH RECURSIVE go(node, base, levels, frontier) AS (
        SELECT b.adaptation_id, 0, b.levels, b.frontier FROM registry_lineagebelow b WHERE b.adaptation_id = start
        UNION
        SELECT b.adaptation_id, go.base + hops, b.levels, b.frontier FROM go
        JOIN registry_lineagebelow b ON b.adaptation_id = ANY(go.frontier)
        WHERE go.base < max_distance
    ) SELECT go.base, go.levels FROM go;
END
$$
"""


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def back(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PREVIOUS)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0010_lineage_below_frontier"),
    ]

    operations = [
        migrations.RunPython(create, back),
    ]
