"""Signing checkpoints of the chain head, and checking the signature of a stored checkpoint.

Only a process holding ``AUDIT_SIGNING_KEY_FILE`` signs (audits/signing.py); it
first re-verifies the chain and refuses a head that does not extend the last
one it signed, so a rewritten and re-hashed chain never gets a genuine
signature. The web app verifies with the configured public keys only.
"""

import hashlib
import hmac

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audits.canonical import GENESIS_HASH, format_timestamp
from audits.models import AuditEvent, ChainHead, Checkpoint
from audits.signing import Signer, SignerRefused, SigningKeyUnavailable, load_signer, verify_checkpoint_signature

__all__ = [
    "SignerRefused",
    "SigningKeyUnavailable",
    "checkpoint_create",
    "checkpoint_signature_problem",
    "hmac_checkpoint_signature",
]


def hmac_checkpoint_signature(seq: int, head_hash: str, created_at: str, key: str) -> str:
    """The signature of checkpoints written before Ed25519, under the old AUDIT_CHECKPOINT_KEY."""
    message = f"{seq}|{head_hash}|{created_at}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def checkpoint_signature_problem(cp: Checkpoint) -> str | None:
    """None when the checkpoint's signature holds under the configured keys; else why not."""
    created_at = format_timestamp(cp.created_at)
    if cp.algorithm == Checkpoint.HMAC_SHA256:
        key = settings.AUDIT_CHECKPOINT_KEY
        if not key:
            return "an HMAC checkpoint, and no AUDIT_CHECKPOINT_KEY is given to check it"
        expected = hmac_checkpoint_signature(cp.seq, cp.head_hash, created_at, key)
        return None if hmac.compare_digest(expected, cp.signature) else "invalid signature"
    if cp.algorithm != Checkpoint.ED25519:
        return f"unknown signature algorithm {cp.algorithm!r}"
    return verify_checkpoint_signature(
        seq=cp.seq,
        head_hash=cp.head_hash,
        created_at=cp.created_at,
        created_at_text=created_at,
        key=cp.key_id,
        signature=cp.signature,
    )


def _refuse_unless_extends(signer: Signer, head: ChainHead) -> None:
    """The chain verifies, and the head signed last is still in it, unchanged."""
    from audits.selectors import verify_chain

    result = verify_chain()
    if not result.ok:
        raise SignerRefused(f"the chain does not verify (sequence {result.first_bad_seq}: {result.reason})")
    last = signer.last_signed()
    if last is None:
        return
    last_seq, last_hash = last
    if head.seq < last_seq:
        raise SignerRefused(f"rollback: the head is at sequence {head.seq}, but {last_seq} was signed already")
    if last_seq == 0:
        stored = GENESIS_HASH
    else:
        stored = AuditEvent.objects.filter(seq=last_seq).values_list("hash", flat=True).first()
    if stored != last_hash:
        raise SignerRefused(f"the event at sequence {last_seq} is not the one signed before: the chain was rewritten")


@transaction.atomic
def checkpoint_create(*, signer: Signer | None = None) -> Checkpoint:
    """Sign the current head, under the head lock so it names a real event; only where the signing key is."""
    from audits.services import lock_chain_head

    signer = signer or load_signer()
    head = lock_chain_head()
    _refuse_unless_extends(signer, head)
    created_at = timezone.now()
    checkpoint = Checkpoint(
        seq=head.seq,
        head_hash=head.hash,
        created_at=created_at,
        algorithm=Checkpoint.ED25519,
        key_id=signer.key_id,
        signature=signer.sign(seq=head.seq, head_hash=head.hash, created_at=format_timestamp(created_at)),
    )
    checkpoint.save()
    seq, head_hash = head.seq, head.hash
    transaction.on_commit(lambda: signer.remember(seq, head_hash))
    return checkpoint
