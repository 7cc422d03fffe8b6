"""Stored lineage roots (issue 18): the table, then its rows computed from the existing edges."""

import django.db.models.deletion
from django.db import migrations, models


def populate(apps, schema_editor) -> None:
    from fmgov.registry.lineage import compute_roots

    edge_model = apps.get_model("registry", "AdaptationParent")
    root_model = apps.get_model("registry", "LineageRoot")
    parents: dict[int, list[tuple[str, int]]] = {}
    for child, model_id, adaptation_id in edge_model.objects.values_list(
        "child_id", "parent_model_id", "parent_adaptation_id"
    ).iterator(chunk_size=20_000):
        parents.setdefault(child, []).append(("m", model_id) if model_id is not None else ("a", adaptation_id))
    rows = [
        root_model(adaptation_id=node, foundation_model_id=model_id, depth=depth, weight=weight)
        for node, per_model in compute_roots(parents).items()
        for model_id, (depth, weight) in per_model.items()
    ]
    root_model.objects.bulk_create(rows, batch_size=5000)


class Migration(migrations.Migration):
    dependencies = [("registry", "0005_revisions_and_superseding_adaptations")]

    operations = [
        migrations.CreateModel(
            name="LineageRoot",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("depth", models.PositiveIntegerField(verbose_name="depth")),
                ("weight", models.FloatField(verbose_name="weight")),
                (
                    "adaptation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="lineage_roots",
                        to="registry.adaptation",
                        verbose_name="adaptation",
                    ),
                ),
                (
                    "foundation_model",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="lineage_roots",
                        to="registry.foundationmodel",
                        verbose_name="foundation model",
                    ),
                ),
            ],
            options={
                "verbose_name": "lineage root",
                "indexes": [
                    models.Index(fields=["foundation_model", "depth", "adaptation"], name="lineage_root_model_depth")
                ],
                "constraints": [
                    models.UniqueConstraint(fields=("adaptation", "foundation_model"), name="lineage_root_unique")
                ],
            },
        ),
        migrations.RunPython(populate, migrations.RunPython.noop),
    ]
