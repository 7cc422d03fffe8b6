"""Stored lineage below each adaptation (issue 18): the reach pairs grouped by ancestor, one text part per level."""

import django.db.models.deletion
from django.db import migrations, models


def populate(apps, schema_editor) -> None:
    from fmgov.registry.lineage import _below_rows, _levels_text

    reach_model = apps.get_model("registry", "LineageReach")
    below_model = apps.get_model("registry", "LineageBelow")
    pairs = reach_model.objects.values_list("ancestor_id", "distance", "descendant_id")
    rows = (
        below_model(adaptation_id=ancestor, levels=_levels_text(levels))
        for ancestor, levels in _below_rows(pairs.iterator(chunk_size=20_000)).items()
    )
    below_model.objects.bulk_create(rows, batch_size=5000)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0007_lineage_reach"),
    ]

    operations = [
        migrations.CreateModel(
            name="LineageBelow",
            fields=[
                (
                    "adaptation",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="registry.adaptation",
                        verbose_name="adaptation",
                    ),
                ),
                ("levels", models.TextField(verbose_name="adaptations below, by level")),
            ],
            options={
                "verbose_name": "lineage below",
                "verbose_name_plural": "lineage below",
            },
        ),
        migrations.RunPython(populate, migrations.RunPython.noop),
    ]
