"""A documentation record per foundation model or adaptation, and its immutable versions.

Every save is a new ``DocumentationVersion`` holding all field values and where each came from; nothing in a
version is rewritten afterwards, except that freezing stamps ``frozen_at`` once ("as submitted on date X"). A
frozen version stays as it was; editing after a freeze makes the next version, a draft.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audits.base import AuditedModel
from fmgov.documentation.choices import DocRole
from fmgov.documentation.fields import as_stored

__all__ = ["DocumentationRecord", "DocumentationVersion", "VersionImmutable"]


class VersionImmutable(RuntimeError):
    """A documentation version was about to be changed after it was written."""


class DocumentationRecord(AuditedModel):
    foundation_model = models.OneToOneField(
        "registry.FoundationModel", null=True, blank=True, on_delete=models.PROTECT, related_name="documentation"
    )
    adaptation = models.OneToOneField(
        "registry.Adaptation", null=True, blank=True, on_delete=models.PROTECT, related_name="documentation"
    )
    role = models.CharField(_("organisation's role"), max_length=30, choices=DocRole.choices)
    systemic_risk = models.BooleanField(
        _("systemic risk (Art. 51)"), default=False, help_text=_("Adds Annex XI Section 2 and Art. 55(1).")
    )
    current_version = models.ForeignKey(
        "DocumentationVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    frozen_version = models.ForeignKey(
        "DocumentationVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("documentation record")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(foundation_model__isnull=False) & Q(adaptation__isnull=True))
                | (Q(foundation_model__isnull=True) & Q(adaptation__isnull=False)),
                name="documentation_exactly_one_target",
            ),
        ]

    def __str__(self) -> str:
        return f"documentation of {self.target}"

    @property
    def target(self):
        return self.foundation_model or self.adaptation

    @property
    def target_kind(self) -> str:
        return "foundation_model" if self.foundation_model_id else "adaptation"


class DocumentationVersion(AuditedModel):
    record = models.ForeignKey(DocumentationRecord, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    role = models.CharField(_("organisation's role"), max_length=30, choices=DocRole.choices)
    systemic_risk = models.BooleanField(_("systemic risk"), default=False)
    fields = models.JSONField(_("fields"), default=dict)
    provenance = models.JSONField(_("provenance per field"), default=dict)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    frozen_at = models.DateTimeField(_("frozen (submitted) at"), null=True, blank=True)
    frozen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("documentation version")
        ordering = ["record", "number"]
        constraints = [models.UniqueConstraint(fields=["record", "number"], name="documentation_version_unique")]

    def __str__(self) -> str:
        return f"{self.record} v{self.number}"

    @classmethod
    def from_db(cls, db, field_names, values):
        version = super().from_db(db, field_names, values)
        if "fields" in version.__dict__ and isinstance(version.fields, dict):
            version.fields = as_stored(version.fields)
        return version

    def save(self, *args, **kwargs):
        """Written once; afterwards only the freeze stamp may be set, once (the freeze service does it)."""
        if not self._state.adding:
            stamp = {"frozen_at", "frozen_by", "updated_at"}
            if set(kwargs.get("update_fields") or ()) != stamp:
                raise VersionImmutable("A documentation version is never changed; save a new version instead.")
            stored = type(self).objects.filter(pk=self.pk).values_list("frozen_at", flat=True).first()
            if stored is not None:
                raise VersionImmutable(f"{self} was frozen on {stored:%Y-%m-%d}; it never changes.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise VersionImmutable("A documentation version is never deleted.")
