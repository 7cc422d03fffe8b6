from celery import shared_task

from audits.anchors import AnchorsIncomplete, checkpoint_anchor, missing_anchors
from audits.checkpoints import checkpoint_create
from audits.hooks import trail_problem_report
from audits.models import Checkpoint
from audits.selectors import chain_head, verify_chain
from audits.signing import SignerRefused


@shared_task(
    name="audits.tasks.checkpoint_audit_trail",
    autoretry_for=(AnchorsIncomplete,),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=5,
)
def checkpoint_audit_trail() -> int:
    """Beat task, on the audit-signing queue (the only worker with the key): sign the head if the trail has grown.

    Then timestamp and witness the newest checkpoint wherever that is still missing (audits.anchors); a failure
    has opened a finding and raises, so Celery retries, and every later run retries too.
    """
    seq, head_hash = chain_head()
    # The signer's own checkpoints only: an HMAC one (from before the signer) is never re-anchored or taken as signed.
    latest = Checkpoint.objects.filter(algorithm=Checkpoint.ED25519).order_by("-seq", "-id").first()
    if latest is None or (latest.seq, latest.head_hash) != (seq, head_hash):
        try:
            latest = checkpoint_create()
        except SignerRefused as refused:
            # The signer keeps what it signed last outside the database: a rewritten, rolled-back or unverifiable
            # trail is refused here, whatever the database says now. Every run reports it until it is resolved.
            trail_problem_report(
                title="The audit-trail signer refused to sign the head",
                detail={"head_seq": seq, "head_hash": head_hash, "reason": str(refused)},
                dedupe_key="audit-trail:signer-refused",
            )
            raise
    if missing_anchors(latest):
        failures = checkpoint_anchor(checkpoint=latest)
        if failures:
            raise AnchorsIncomplete(f"checkpoint at sequence {latest.seq}: {'; '.join(failures.values())}")
    return latest.seq


@shared_task(name="audits.tasks.check_audit_trail_exactly")
def check_audit_trail_exactly() -> bool:
    """Beat task, daily: every event checked exactly, columns included (``verify_audit_trail --columns``).

    The checkpoint signer checks each event exactly once, when it signs it; the
    pages show the hashed bytes, but filters and counts select by the columns,
    so a column edited after signing is found here and opens a finding.
    """
    result = verify_chain(columns=True)
    if not result.ok:
        trail_problem_report(
            title=f"The audit trail does not verify exactly at sequence {result.first_bad_seq}",
            detail=result.as_dict(),
            dedupe_key="audit-trail:exact-check",
        )
    return result.ok
