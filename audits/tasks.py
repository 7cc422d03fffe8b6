from celery import shared_task

from audits.anchors import AnchorsIncomplete, checkpoint_anchor, missing_anchors
from audits.checkpoints import checkpoint_create
from audits.models import Checkpoint
from audits.selectors import chain_head


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
    latest = Checkpoint.objects.order_by("-seq", "-id").first()
    if latest is None or (latest.seq, latest.head_hash) != (seq, head_hash):
        latest = checkpoint_create()
    if missing_anchors(latest):
        failures = checkpoint_anchor(checkpoint=latest)
        if failures:
            raise AnchorsIncomplete(f"checkpoint at sequence {latest.seq}: {'; '.join(failures.values())}")
    return latest.seq
