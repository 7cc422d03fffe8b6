from celery import shared_task

from audits.checkpoints import checkpoint_create
from audits.models import Checkpoint
from audits.selectors import chain_head


@shared_task(name="audits.tasks.checkpoint_audit_trail")
def checkpoint_audit_trail() -> int:
    """Beat task, on the audit-signing queue (the only worker with the key): sign the head if the trail has grown."""
    seq, head_hash = chain_head()
    latest = Checkpoint.objects.order_by("-seq", "-id").values_list("seq", "head_hash").first()
    if latest == (seq, head_hash):
        return seq
    return checkpoint_create().seq
