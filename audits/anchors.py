"""Anchoring checkpoints outside fmgov: RFC 3161 timestamps and witnesses, by the signer.

``checkpoint_anchor`` gets each configured authority's token and hands the
checkpoint to each configured witness, recording every success as a
``CheckpointAnchor`` (append-only, once per target). Whatever failed opens a
finding (one per failing authority or witness, until someone resolves it) and
is returned, so the checkpoint task raises and Celery retries it; the next
checkpoint run also retries the newest checkpoint's missing anchors. Nothing
fails silently.
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from audits.hooks import anchor_failure_report
from audits.models import Checkpoint, CheckpointAnchor
from audits.timestamps import TimestampFailed, checkpoint_record, checkpoint_statement, timestamp_fetch
from audits.witnesses import WitnessFailed, witness_publish
from fmgov.core.egress import EgressClient

__all__ = ["AnchorsIncomplete", "anchor_targets", "checkpoint_anchor", "missing_anchors"]


class AnchorsIncomplete(RuntimeError):
    """Some authority or witness did not take the checkpoint; findings say which. Raised to make Celery retry."""


def anchor_targets() -> list[tuple[str, str]]:
    """(kind, target) of every configured authority and witness."""
    return [(CheckpointAnchor.TIMESTAMP, url) for url in settings.AUDIT_TSA_URLS if url.strip()] + [
        (CheckpointAnchor.WITNESS, spec) for spec in settings.AUDIT_WITNESSES if spec.strip()
    ]


def missing_anchors(cp: Checkpoint) -> list[tuple[str, str]]:
    done = set(CheckpointAnchor.objects.filter(checkpoint=cp).values_list("kind", "target"))
    return [target for target in anchor_targets() if target not in done]


def _keep(cp: Checkpoint, kind: str, target: str, token: bytes = b"") -> None:
    try:
        with transaction.atomic():
            CheckpointAnchor.objects.create(
                checkpoint=cp, kind=kind, target=target, token=token, anchored_at=timezone.now()
            )
    except IntegrityError:
        pass  # a concurrent run of the signer anchored it first


def _report(cp: Checkpoint, kind: str, target: str, problem: str) -> None:
    what = "Timestamp authority" if kind == CheckpointAnchor.TIMESTAMP else "Audit witness"
    anchor_failure_report(
        title=f"{what} failed for the audit checkpoint at sequence {cp.seq}",
        detail={"kind": kind, "target": target, "checkpoint_seq": cp.seq, "problem": problem},
        dedupe_key=f"audit-anchor:{kind}:{target}"[:200],
    )


def checkpoint_anchor(*, checkpoint: Checkpoint) -> dict[str, str]:
    """Timestamp and witness one checkpoint wherever that is still missing; returns {target: problem} of failures."""
    failures: dict[str, str] = {}
    record, statement = checkpoint_record(checkpoint), checkpoint_statement(checkpoint)
    with EgressClient(max_connections=2) as client:
        for kind, target in missing_anchors(checkpoint):
            try:
                if kind == CheckpointAnchor.TIMESTAMP:
                    _keep(checkpoint, kind, target, timestamp_fetch(target, statement, client=client))
                else:
                    witness_publish(target, record, key=f"audit-checkpoint-{checkpoint.pk}", client=client)
                    _keep(checkpoint, kind, target)
            except (TimestampFailed, WitnessFailed) as exc:
                failures[target] = str(exc)
                _report(checkpoint, kind, target, str(exc))
    return failures
