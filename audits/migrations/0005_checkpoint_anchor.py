"""Checkpoint anchors (RFC 3161 timestamp tokens and witness publications), append-only like the trail."""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "audits_checkpointanchor"


def install(apps, schema_editor):
    """The same refusing triggers as migration 0002 installs on the events and checkpoints."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE TRIGGER {TABLE}_no_update_delete BEFORE UPDATE OR DELETE ON {TABLE} "
        "FOR EACH ROW EXECUTE FUNCTION fmgov_audit_append_only();"
    )
    schema_editor.execute(
        f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
        "FOR EACH STATEMENT EXECUTE FUNCTION fmgov_audit_append_only();"
    )
    schema_editor.execute(f"ALTER TABLE {TABLE} ENABLE ALWAYS TRIGGER {TABLE}_no_update_delete;")
    schema_editor.execute(f"ALTER TABLE {TABLE} ENABLE ALWAYS TRIGGER {TABLE}_no_truncate;")


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_update_delete ON {TABLE};")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE};")


class Migration(migrations.Migration):
    dependencies = [("audits", "0004_checkpoint_ed25519")]

    operations = [
        migrations.CreateModel(
            name="CheckpointAnchor",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[("timestamp", "RFC 3161 timestamp"), ("witness", "witness")],
                        max_length=16,
                        verbose_name="kind",
                    ),
                ),
                ("target", models.CharField(max_length=500, verbose_name="authority or witness")),
                ("token", models.BinaryField(blank=True, default=b"", verbose_name="timestamp token (DER)")),
                ("anchored_at", models.DateTimeField(verbose_name="time")),
                (
                    "checkpoint",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="anchors",
                        to="audits.checkpoint",
                    ),
                ),
            ],
            options={
                "verbose_name": "checkpoint anchor",
                "ordering": ["checkpoint_id", "kind", "target"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("checkpoint", "kind", "target"), name="audits_anchor_once_per_target"
                    )
                ],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
