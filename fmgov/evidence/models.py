"""An evidence file (red-team report, DPIA, licence, evaluation export) attached to a review, a risk item, an
incident or one field of a model's documentation record (issue 19, "Evidence files").

A row is never changed in what it records: the bytes are stored once under their SHA-256
(``evidence/sha256/ab/cd/<digest>``), and a new upload of the same name on the same parent is a new row, a revision
that ``supersedes`` the previous one. The parent is one explicit foreign key (a check constraint says exactly one of
review, incident and documentation record; the item only with its review; the documentation field name with the
record and only with it), so "every attachment of this review" is an indexed lookup and each link shows in the schema.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from audits.base import AuditedModel, bulk_writes_recorded_open

__all__ = ["Attachment", "AttachmentChanged"]

#: What a row may still change once written: the expiry notice's mark (the service records it) and the timestamp.
_MUTABLE = frozenset({"expiry_notice_sent_at", "updated_at"})


class AttachmentChanged(RuntimeError):
    """An attempt to change what an attachment records, or to delete it outside the audited retention purge."""


class Attachment(AuditedModel):
    review = models.ForeignKey(
        "reviews.RiskReview",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="attachments",
        verbose_name=_("risk review"),
    )
    # Set for a risk item's attachment (with ``review`` = the item's review). A deleted item leaves its files on
    # the review: evidence is not lost with the item, and the item's deletion is in the trail.
    review_item = models.ForeignKey(
        "reviews.ReviewItem",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attachments",
        verbose_name=_("risk item"),
    )
    incident = models.ForeignKey(
        "incidents.Incident",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="attachments",
        verbose_name=_("serious incident"),
    )
    # A documentation field's file: the record (one per foundation model or adaptation) and the catalogue field's
    # name (``fmgov.documentation.fields``). Files belong to the record, not to a version: one uploaded after a
    # freeze is evidence for the next draft, and the frozen version's fields stay as they were.
    documentation_record = models.ForeignKey(
        "documentation.DocumentationRecord",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="attachments",
        verbose_name=_("documentation record"),
    )
    documentation_field = models.CharField(
        _("documentation field"), max_length=100, blank=True, help_text=_("A field name from the catalogue.")
    )
    name = models.CharField(_("file name"), max_length=200, help_text=_("As uploaded, without any folder."))
    description = models.CharField(_("description"), max_length=500, blank=True)
    file = models.FileField(_("stored file"), max_length=200, help_text=_("Content-addressed: named by its SHA-256."))
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    content_type = models.CharField(_("detected type"), max_length=100, help_text=_("Detected from the bytes."))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    effective_date = models.DateField(_("effective date"))
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    revision = models.PositiveIntegerField(_("revision"), default=1)
    supersedes = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
        verbose_name=_("supersedes"),
    )
    expiry_notice_sent_at = models.DateTimeField(_("expiry notice sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("attachment")
        ordering = ["name", "revision", "id"]
        indexes = [
            models.Index(fields=["expires_on"], name="evidence_expires_idx"),
            models.Index(fields=["documentation_record", "documentation_field", "name"], name="evidence_docfield_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(review__isnull=False, incident__isnull=True, documentation_record__isnull=True)
                    | models.Q(review__isnull=True, incident__isnull=False, documentation_record__isnull=True)
                    | models.Q(review__isnull=True, incident__isnull=True, documentation_record__isnull=False)
                ),
                name="evidence_one_parent",
            ),
            models.CheckConstraint(
                condition=models.Q(documentation_record__isnull=True, documentation_field="")
                | (models.Q(documentation_record__isnull=False) & ~models.Q(documentation_field="")),
                name="evidence_field_with_documentation",
            ),
            models.CheckConstraint(
                condition=models.Q(review_item__isnull=True) | models.Q(review__isnull=False),
                name="evidence_item_with_review",
            ),
            models.CheckConstraint(condition=models.Q(revision__gte=1), name="evidence_revision_positive"),
            models.CheckConstraint(
                condition=models.Q(expires_on__isnull=True) | models.Q(expires_on__gte=models.F("effective_date")),
                name="evidence_expires_after_effective",
            ),
        ]

    def save(self, *args, **kwargs) -> None:
        """Written once; afterwards only ``_MUTABLE`` fields, named in ``update_fields``, may be saved.

        ``AuditedModel`` leaves ``save()`` open for services; an attachment's record never changes (a new upload is a
        new revision), so a stray ``attachment.sha256 = ...; attachment.save()`` is refused here like RunMetric's.
        """
        if not self._state.adding:
            fields = kwargs.get("update_fields")
            if fields is None or not set(fields) <= _MUTABLE:
                raise AttachmentChanged(
                    f"{self._meta.label} rows are never changed; upload a new revision "
                    f"(only {', '.join(sorted(_MUTABLE))} may be saved, by name in update_fields)."
                )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        """Only the retention purge deletes an attachment, inside ``bulk_writes_recorded()`` (it records the event)."""
        if not bulk_writes_recorded_open():
            raise AttachmentChanged(
                f"{self._meta.label} rows are deleted only by the retention purge (an audited admin action)."
            )
        return super().delete(*args, **kwargs)

    def __str__(self) -> str:
        return f"{self.name} (rev. {self.revision}, sha256 {self.sha256[:12]}…)"

    @property
    def parent_label(self) -> str:
        if self.incident_id:
            return f"incident #{self.incident_id}"
        if self.documentation_record_id:
            return f"documentation field {self.documentation_field} of record #{self.documentation_record_id}"
        if self.review_item_id:
            return f"risk item #{self.review_item_id} of review #{self.review_id}"
        return f"review #{self.review_id}"
