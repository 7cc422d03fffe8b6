"""Base models shared by the domain apps.

The audited base (``AuditedModel`` and its bulk-write guard) lives in
``audits.base``, one layer up, next to the trail it protects.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["TimeStampedModel"]


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True
