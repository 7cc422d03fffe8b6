"""Stored lineage reach (issue 18): adaptation pairs at most REACH_HOPS apart, computed from the existing edges."""

import django.db.models.deletion
from django.db import migrations, models


def populate(apps, schema_editor) -> None:
    from fmgov.registry.lineage import compute_reach

    edge_model = apps.get_model("registry", "AdaptationParent")
    reach_model = apps.get_model("registry", "LineageReach")
    parents: dict[int, list[tuple[str, int]]] = {}
    for child, model_id, adaptation_id in edge_model.objects.values_list(
        "child_id", "parent_model_id", "parent_adaptation_id"
    ).iterator(chunk_size=20_000):
        parents.setdefault(child, []).append(("m", model_id) if model_id is not None else ("a", adaptation_id))
    rows = (
        reach_model(descendant_id=node, ancestor_id=ancestor, distance=distance)
        for node, above in compute_reach(parents).items()
        for ancestor, distance in above.items()
    )
    reach_model.objects.bulk_create(rows, batch_size=5000)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0006_lineage_roots"),
    ]

    operations = [
        migrations.CreateModel(
            name="LineageReach",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "descendant", "ancestor", blank=True, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("distance", models.PositiveSmallIntegerField(verbose_name="distance")),
                (
                    "ancestor",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="registry.adaptation",
                        verbose_name="ancestor",
                    ),
                ),
                (
                    "descendant",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="registry.adaptation",
                        verbose_name="descendant",
                    ),
                ),
            ],
            options={
                "verbose_name": "lineage reach",
                "verbose_name_plural": "lineage reach",
                "indexes": [models.Index(fields=["ancestor", "distance", "descendant"], name="lineage_reach_down")],
            },
        ),
        migrations.RunPython(populate, migrations.RunPython.noop),
    ]
