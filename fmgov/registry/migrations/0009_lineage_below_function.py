"""The walk below an adaptation as a PL/pgSQL function on PostgreSQL (issue 18); nothing on other databases.

Why a function: a PL/pgSQL function keeps its query's plan for the session,
so the walk is planned once per connection instead of at every call (0.3-0.4
ms of the server's CPU, a fifth of the walk below the benchmark's depth-10
node). A prepared statement would save the same, but it lives on one server
connection, which a pooler in transaction mode does not keep. The query is
the one ``fmgov.registry.lineage.walk`` ran inline: from the adaptation, the
reach pairs exactly ``hops`` down, then from each node reached, and so on,
and the grouped row (``LineageBelow``) of each, with its ``base`` (0, hops,
2 hops...). ``hops`` and the guard against a hand-written cycle are
parameters, so the caller's ``REACH_HOPS`` is the one used.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION fmgov_lineage_below(start bigint, hops integer, max_distance integer)
RETURNS TABLE (base integer, levels text) LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY WITH RECURSIVE go(node, base, levels) AS (
        SELECT b.adaptation_id, 0, b.levels FROM registry_lineagebelow b WHERE b.adaptation_id = start
        UNION
        SELECT r.descendant_id, go.base + hops, b.levels FROM go
        JOIN registry_lineagereach r ON r.ancestor_id = go.node AND r.distance = hops
        JOIN registry_lineagebelow b ON b.adaptation_id = r.descendant_id
        WHERE go.base < max_distance
    ) SELECT go.base, go.levels FROM go;
END
$$
"""

DROP = "DROP FUNCTION IF EXISTS fmgov_lineage_below(bigint, integer, integer)"


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0008_lineage_below"),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
