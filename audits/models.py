"""The append-only, hash-chained audit trail.

Rows are written only by ``audits.services.audit_record`` and are never
updated or deleted: the model refuses it here and, on PostgreSQL, triggers
installed by migration 0002 refuse UPDATE, DELETE and TRUNCATE.
"""

import datetime as dt
import json
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.fields.related_descriptors import ForwardManyToOneDescriptor
from django.utils.translation import gettext_lazy as _

from audits.canonical import HASHED_FIELDS, format_timestamp, same_json, stored_form


class AppendOnlyError(RuntimeError):
    """An attempt to change or remove an audit record."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model._meta.label} is append-only.")

    def delete(self):
        raise AppendOnlyError(f"{self.model._meta.label} is append-only.")

    def bulk_update(self, *args, **kwargs):
        raise AppendOnlyError(f"{self.model._meta.label} is append-only.")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{self._meta.label} rows cannot be changed once written.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{self._meta.label} rows cannot be deleted.")


class ChainHead(models.Model):
    """One row: the newest sequence number and hash. Locking it serialises appends."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("chain head")

    def __str__(self) -> str:
        return f"head @{self.seq}"


#: The row's place in the chain: shown from the row (one row, one sequence number), never from its bytes, which
#: verification requires to name the same place.
PLACE_FIELDS = ("seq", "prev_hash")


class _RecordedActorDescriptor(ForwardManyToOneDescriptor):
    """``event.actor`` is the user ``event.actor_id`` names, which from_db takes from the hashed bytes.

    A ``select_related("actor")`` joins through the actor_id column and caches
    that user after from_db has run; a cached user that is not the one
    recorded is dropped and the recorded one loaded.
    """

    def __get__(self, instance, cls=None):
        if instance is not None and self.field.is_cached(instance):
            cached = self.field.get_cached_value(instance)
            if getattr(cached, "pk", None) != instance.actor_id:
                self.field.delete_cached_value(instance)
        return super().__get__(instance, cls)


class RecordedActorField(models.ForeignKey):
    forward_related_accessor_class = _RecordedActorDescriptor

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.ForeignKey", args, kwargs  # the same column and constraint as before


class AuditEvent(AppendOnlyModel):
    seq = models.BigIntegerField(_("sequence number"), primary_key=True)
    timestamp = models.DateTimeField(_("time"), db_index=True)
    actor = RecordedActorField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,  # the trail outlives users; never rewritten
        db_constraint=False,
        related_name="+",
    )
    actor_username = models.CharField(_("actor username"), max_length=150, blank=True)
    actor_system = models.CharField(
        _("system actor"), max_length=100, blank=True, help_text=_("The task or command that acted, if no user.")
    )
    action = models.CharField(_("action"), max_length=100, db_index=True)
    object_type = models.CharField(_("object type"), max_length=100, blank=True, db_index=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True, db_index=True)
    object_repr = models.CharField(_("object"), max_length=300, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    context = models.JSONField(_("context"), default=dict, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)
    canonical = models.BinaryField(
        _("canonical JSON"),
        editable=False,
        help_text=_("The exact bytes that were hashed; the columns above must say the same."),
    )

    class Meta:
        ordering = ["seq"]
        verbose_name = _("audit event")
        indexes = [
            models.Index(fields=["object_type", "object_id", "seq"]),
            # the trail page's actor filter, newest first, without walking a million events for a rare actor
            models.Index(fields=["actor_username", "seq"], name="audits_event_actor_seq"),
            # verification walks the links in sequence order from this index alone (a tenth of the table's pages)
            models.Index(fields=["seq"], include=["prev_hash", "hash"], name="audits_event_chain_links"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_repr}"

    #: Columns whose value differs from what the event's bytes say, found when the event was read (see from_db).
    altered_columns: tuple[str, ...] = ()

    @classmethod
    def from_db(cls, db, field_names, values):
        """An event read with its bytes shows what the bytes say, whatever its columns hold.

        Pages, the API and reports render events read through the ORM, so an
        insider who edits a column (and not the hashed bytes, which verification
        re-hashes) changes nothing anyone reads. The columns still serve
        filtering; a column that disagrees is named in ``altered_columns``.
        """
        event = super().from_db(db, field_names, values)
        if "canonical" in field_names:
            event._show_hashed_bytes()
        return event

    def _show_hashed_bytes(self) -> None:
        loaded = self.__dict__
        try:
            recorded = self.hashed_values()
            shown = {name: stored_form(recorded[name]) for name in HASHED_FIELDS}
            shown["timestamp"] = dt.datetime.fromisoformat(recorded["timestamp"]).astimezone(dt.UTC)
        except (ValueError, TypeError, AttributeError, RecursionError):
            self.altered_columns = ("canonical",)  # not an event: verification names it; show the columns, flagged
            return
        altered = []
        for name, value in shown.items():
            if name not in loaded or loaded[name] is models.DEFERRED:
                setattr(self, name, value)
                continue
            column = loaded[name]
            if name == "timestamp":
                same = isinstance(column, dt.datetime) and format_timestamp(column) == recorded["timestamp"]
            elif name in ("changes", "context"):
                same = same_json(column, value)
            else:
                same = type(column) is type(value) and column == value
            if not same:
                altered.append(name)
                if name not in PLACE_FIELDS:
                    setattr(self, name, value)
        self.altered_columns = tuple(altered)

    def hashed_values(self) -> dict[str, Any]:
        """The hashed fields as the stored bytes say (see audits.canonical), not as the columns do."""
        values = json.loads(bytes(self.canonical))
        if not isinstance(values, dict) or tuple(sorted(values)) != tuple(sorted(HASHED_FIELDS)):
            raise ValueError(f"audit event {self.seq}: the stored bytes are not an event")
        return values


class Checkpoint(AppendOnlyModel):
    """A signed (sequence, head hash) so that a truncated tail is detectable.

    New checkpoints are Ed25519 by the signer (audits/signing.py); rows written before are HMAC-SHA256 under the
    old AUDIT_CHECKPOINT_KEY and stay verifiable with it.
    """

    ED25519, HMAC_SHA256 = "ed25519", "hmac-sha256"

    seq = models.BigIntegerField(_("sequence number"))
    head_hash = models.CharField(_("head hash"), max_length=64)
    created_at = models.DateTimeField(_("time"))
    algorithm = models.CharField(_("signature algorithm"), max_length=16, default=HMAC_SHA256)
    key_id = models.CharField(_("key id"), max_length=16, blank=True)
    signature = models.CharField(_("signature (hex)"), max_length=128)

    class Meta:
        ordering = ["seq", "id"]
        verbose_name = _("checkpoint")

    def __str__(self) -> str:
        return f"checkpoint @{self.seq}"


class CheckpointAnchor(AppendOnlyModel):
    """A checkpoint held outside fmgov: an RFC 3161 timestamp token, or a witness that received it.

    Written once per (checkpoint, kind, target) by the signer (audits/anchors.py); a timestamp's token is the
    DER TimeStampToken over SHA-256 of ``audits.anchors.checkpoint_statement``.
    """

    TIMESTAMP, WITNESS = "timestamp", "witness"
    KINDS = [(TIMESTAMP, _("RFC 3161 timestamp")), (WITNESS, _("witness"))]

    # No database constraint, like AuditEvent.actor: the rows are never deleted (the triggers refuse it), and a
    # deferred foreign-key check must not hold up an investigator's ALTER TABLE on the checkpoints.
    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.DO_NOTHING, db_constraint=False, related_name="anchors")
    kind = models.CharField(_("kind"), max_length=16, choices=KINDS)
    target = models.CharField(_("authority or witness"), max_length=500)
    token = models.BinaryField(_("timestamp token (DER)"), blank=True, default=b"", editable=False)
    anchored_at = models.DateTimeField(_("time"))

    class Meta:
        ordering = ["checkpoint_id", "kind", "target"]
        verbose_name = _("checkpoint anchor")
        constraints = [
            models.UniqueConstraint(fields=["checkpoint", "kind", "target"], name="audits_anchor_once_per_target")
        ]

    def __str__(self) -> str:
        return f"{self.kind} of checkpoint @{self.checkpoint.seq} by {self.target}"
