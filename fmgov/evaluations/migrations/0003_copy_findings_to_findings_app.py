"""Copy every evaluation finding into the general ``findings.Finding``, keeping its id.

Keeping the id keeps what already names the finding valid: evidence links (whose
foreign key is pointed at the new table by the next migration), review
revocations ("Evaluation finding #12") and the audit events of
``evaluations.finding`` (also recorded in ``detail["migrated_from"]``). The
title and the detail are written here as ``evaluations.services.findings``
writes them for new breaches; a migration keeps its own copy of that format.
"""

from django.core.management.color import no_style
from django.db import migrations


def _title(metric, value, threshold):
    return f"{metric} = {value:g} breaches {threshold.get('op', '')} {threshold.get('value', '')}".strip()


def copy_findings(apps, schema_editor):
    Old = apps.get_model("evaluations", "Finding")
    New = apps.get_model("findings", "Finding")
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not Old.objects.exists():
        return
    deployment_type, _ = ContentType.objects.get_or_create(app_label="registry", model="deployment")
    for f in Old.objects.select_related("run__suite", "deployment").order_by("pk"):
        threshold = f.threshold if isinstance(f.threshold, dict) else {"value": f.threshold}
        New.objects.create(
            id=f.pk,
            source="evaluation",
            subject_type=deployment_type,
            subject_id=f.deployment_id,
            subject_label=f.deployment.name[:300],
            severity=f.severity,
            state=f.status,
            title=_title(f.metric, f.value, threshold)[:300],
            detail={
                "metric": f.metric,
                "value": f.value,
                "threshold": f.threshold,
                "run": f.run_id,
                "suite": f.run.suite_id,
                "suite_name": f.run.suite.name,
                "migrated_from": {"object_type": "evaluations.finding", "object_id": str(f.pk)},
            },
            dedupe_key=f"evaluation:run:{f.run_id}:{f.metric}",
            opened_at=f.created_at,
            acknowledged_by_id=f.acknowledged_by_id,
            acknowledged_at=f.acknowledged_at,
            # One note field before: it said how a finding was resolved, or else why it was acknowledged.
            acknowledgement_note=f.note if f.status == "acknowledged" else "",
            resolved_by_id=f.resolved_by_id,
            resolved_at=f.resolved_at,
            resolution_note=f.note if f.status == "resolved" else "",
        )
        # auto_now_add stamped the copy; give it the original's times.
        New.objects.filter(pk=f.pk).update(created_at=f.created_at, updated_at=f.updated_at)
    for sql in schema_editor.connection.ops.sequence_reset_sql(no_style(), [New]):
        schema_editor.execute(sql)


def copy_back(apps, schema_editor):
    """Going back: the evaluation findings return to the recreated old table, with their ids."""
    Old = apps.get_model("evaluations", "Finding")
    New = apps.get_model("findings", "Finding")
    rows = New.objects.filter(source="evaluation").order_by("pk")
    for f in rows:
        Old.objects.create(
            id=f.pk,
            run_id=f.detail["run"],
            deployment_id=f.subject_id,
            metric=f.detail["metric"],
            value=f.detail["value"],
            threshold=f.detail["threshold"],
            severity=f.severity,
            status=f.state,
            note=f.resolution_note or f.acknowledgement_note,
            acknowledged_by_id=f.acknowledged_by_id,
            acknowledged_at=f.acknowledged_at,
            resolved_by_id=f.resolved_by_id,
            resolved_at=f.resolved_at,
        )
        Old.objects.filter(pk=f.pk).update(created_at=f.opened_at, updated_at=f.updated_at)
    rows.delete()
    for sql in schema_editor.connection.ops.sequence_reset_sql(no_style(), [Old]):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("evaluations", "0002_policy_requirements_and_evidence"),
        ("findings", "0001_initial"),
    ]

    operations = [migrations.RunPython(copy_findings, copy_back, elidable=False)]
