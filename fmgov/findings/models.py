"""One finding model for every source: evaluations, the portfolio check and the checks still to come.

A finding is about a subject (any model, through contenttypes; or nothing, for
portfolio-wide findings), carries what its source measured in ``detail``, and
follows one workflow: open -> acknowledged -> resolved, each step through an
audited service. ``dedupe_key`` lets a source open "the same finding" again
without piling up duplicates: it is unique among findings not yet resolved.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audits.base import AuditedModel
from fmgov.findings.choices import ACTIVE_STATES, FindingSource, FindingState, Severity

__all__ = ["Finding"]


class Finding(AuditedModel):
    source = models.CharField(_("source"), max_length=30, choices=FindingSource.choices, db_index=True)
    subject_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("subject type")
    )
    subject_id = models.PositiveBigIntegerField(_("subject id"), null=True, blank=True)
    subject = GenericForeignKey("subject_type", "subject_id")
    subject_label = models.CharField(
        _("subject"), max_length=300, blank=True, help_text=_("The subject's name when the finding was opened.")
    )
    severity = models.CharField(_("severity"), max_length=20, choices=Severity.choices, default=Severity.HIGH)
    state = models.CharField(
        _("state"), max_length=20, choices=FindingState.choices, default=FindingState.OPEN, db_index=True
    )
    title = models.CharField(_("title"), max_length=300)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    dedupe_key = models.CharField(_("dedupe key"), max_length=300, blank=True, default="")
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now, db_index=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledgement_note = models.TextField(_("acknowledgement note"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution_note = models.TextField(_("resolution note"), blank=True)

    class Meta:
        verbose_name = _("finding")
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["subject_type", "subject_id"], name="finding_subject_idx"),
            models.Index(fields=["source", "state"], name="finding_source_state_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=models.Q(state__in=ACTIVE_STATES) & ~models.Q(dedupe_key=""),
                name="finding_one_active_per_dedupe_key",
            ),
            models.CheckConstraint(
                condition=models.Q(subject_type__isnull=True, subject_id__isnull=True)
                | models.Q(subject_type__isnull=False, subject_id__isnull=False),
                name="finding_subject_type_and_id_together",
            ),
        ]

    def __str__(self) -> str:
        return f"finding {self.pk}: {self.title}"

    @property
    def note(self) -> str:
        """The latest word on the finding: how it was resolved, else why it was acknowledged."""
        return self.resolution_note or self.acknowledgement_note

    def audit_objects(self) -> list[tuple[str, str]]:
        """(object_type, object_id) pairs its audit events carry, including those of the row it was migrated from."""
        objects = [("findings.finding", str(self.pk))]
        origin = self.detail.get("migrated_from") if isinstance(self.detail, dict) else None
        if origin:
            objects.append((origin["object_type"], origin["object_id"]))
        return objects
