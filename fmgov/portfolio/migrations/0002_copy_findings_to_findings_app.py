"""Copy every portfolio finding into the general ``findings.Finding``.

Ids are new (evaluation findings kept theirs), so each copy records the row it
came from in ``detail["migrated_from"]``: the audit events of
``portfolio.portfoliofinding`` stay findable. Title, detail and dedupe key are
written as ``portfolio.services`` writes them; a migration keeps its own copy.
"""

from django.db import migrations

KIND_LABELS = {
    "concentration": "Provider concentration above the alert threshold",
    "single_point_of_failure": "Single point of failure",
}


def copy_findings(apps, schema_editor):
    Old = apps.get_model("portfolio", "PortfolioFinding")
    New = apps.get_model("findings", "Finding")
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not Old.objects.exists():
        return
    model_type, _ = ContentType.objects.get_or_create(app_label="registry", model="foundationmodel")
    for f in Old.objects.order_by("pk"):
        copy = New.objects.create(
            source="portfolio",
            subject_type=model_type if f.foundation_model_id else None,
            subject_id=f.foundation_model_id,
            subject_label=f.subject,
            severity="high",
            state=f.status,
            title=f"{KIND_LABELS.get(f.kind, f.kind)}: {f.subject}"[:300],
            detail={
                "kind": f.kind,
                "value": f.value,
                "threshold": f.threshold,
                "details": f.details,
                "migrated_from": {"object_type": "portfolio.portfoliofinding", "object_id": str(f.pk)},
            },
            dedupe_key=f"portfolio:{f.kind}:{f.subject}",
            opened_at=f.created_at,
            # The portfolio recorded who closed a finding, not who acknowledged it, nor when either happened.
            acknowledged_at=f.updated_at if f.status == "acknowledged" else None,
            acknowledgement_note=f.note if f.status == "acknowledged" else "",
            resolved_by_id=f.closed_by_id if f.status == "resolved" else None,
            resolved_at=f.updated_at if f.status == "resolved" else None,
            resolution_note=f.note if f.status == "resolved" else "",
        )
        New.objects.filter(pk=copy.pk).update(created_at=f.created_at, updated_at=f.updated_at)


def copy_back(apps, schema_editor):
    """Going back: the portfolio findings return to the recreated old table."""
    Old = apps.get_model("portfolio", "PortfolioFinding")
    New = apps.get_model("findings", "Finding")
    rows = New.objects.filter(source="portfolio").order_by("pk")
    for f in rows:
        old = Old.objects.create(
            kind=f.detail["kind"],
            subject=f.subject_label,
            foundation_model_id=f.subject_id,
            value=f.detail["value"],
            threshold=f.detail["threshold"],
            details=f.detail.get("details", {}),
            status=f.state,
            note=f.resolution_note or f.acknowledgement_note,
            closed_by_id=f.resolved_by_id,
        )
        Old.objects.filter(pk=old.pk).update(created_at=f.opened_at, updated_at=f.updated_at)
    rows.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("portfolio", "0001_initial"),
        ("findings", "0001_initial"),
        # Evaluation findings keep their ids; these take the ones after.
        ("evaluations", "0003_copy_findings_to_findings_app"),
    ]

    operations = [migrations.RunPython(copy_findings, copy_back, elidable=False)]
