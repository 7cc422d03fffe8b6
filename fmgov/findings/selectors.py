"""Reads on findings, shaped for lists (users and subject types joined) so pages and APIs never N+1."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import QuerySet

from fmgov.findings.choices import ACTIVE_STATES
from fmgov.findings.models import Finding

__all__ = ["finding_list", "findings_about", "active_findings", "active_finding_count", "subject_type_for"]


def finding_list(*, source: str | None = None) -> QuerySet[Finding]:
    rows = Finding.objects.select_related("subject_type", "acknowledged_by", "resolved_by")
    return rows.filter(source=source) if source else rows


def subject_type_for(model: type[models.Model] | models.Model) -> ContentType:
    return ContentType.objects.get_for_model(model)


def findings_about(subject: models.Model, *, source: str | None = None) -> QuerySet[Finding]:
    """Every finding whose subject is this object, newest first."""
    return finding_list(source=source).filter(subject_type=subject_type_for(subject), subject_id=subject.pk)


def active_findings(*, source: str | None = None) -> QuerySet[Finding]:
    """Findings still asking for attention (open or acknowledged), newest first."""
    return finding_list(source=source).filter(state__in=ACTIVE_STATES).order_by("-opened_at", "-id")


def active_finding_count(*, source: str | None = None) -> int:
    rows = Finding.objects.filter(state__in=ACTIVE_STATES)
    return (rows.filter(source=source) if source else rows).count()
