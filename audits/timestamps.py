"""RFC 3161 timestamps of checkpoints, requested from the authorities in ``AUDIT_TSA_URLS``.

What is timestamped is the checkpoint's statement: the canonical JSON of its
seq, head hash, time, algorithm, key id and signature (``checkpoint_statement``),
hashed with SHA-256 into the request's message imprint. The token the authority
returns proves the signed checkpoint existed at its ``genTime``; an insider who
later forges a checkpoint cannot get a token dated before the forgery.
``audits/verify_export.py --tsa-cert`` checks the stored tokens with ``openssl ts -verify``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from rfc3161_client import HashAlgorithm, PKIStatus, TimestampRequestBuilder, decode_timestamp_response

from audits.canonical import canonical_json, format_timestamp
from audits.models import Checkpoint
from fmgov.core.egress import EgressClient, EgressError

__all__ = ["TimestampFailed", "checkpoint_record", "checkpoint_statement", "timestamp_fetch"]

#: A token is a few kilobytes (the TSA's certificates included); anything far larger is not one.
MAX_RESPONSE_BYTES = 256 * 1024
DEADLINE_S = 30.0


class TimestampFailed(Exception):
    """The authority gave no usable token; the message names the authority and why, never its body."""


def checkpoint_record(cp: Checkpoint) -> dict[str, Any]:
    """A checkpoint as the export, the witnesses and ``--known-checkpoint`` spell it."""
    return {
        "seq": cp.seq,
        "head_hash": cp.head_hash,
        "created_at": format_timestamp(cp.created_at),
        "algorithm": cp.algorithm,
        "key_id": cp.key_id,
        "signature": cp.signature,
    }


def checkpoint_statement(cp: Checkpoint) -> bytes:
    """The bytes a timestamp covers (their SHA-256 is the message imprint); keep in step with verify_export.py."""
    return canonical_json(checkpoint_record(cp)).encode("utf-8")


def timestamp_fetch(url: str, data: bytes, *, client: EgressClient) -> bytes:
    """A TimeStampToken (DER) over SHA-256 of ``data`` from the authority at ``url``, checked before it is kept.

    The answer must be granted, over our imprint, with our nonce: a token for
    another digest, or replayed from another request, is refused here.
    """
    request = TimestampRequestBuilder().data(data).hash_algorithm(HashAlgorithm.SHA256).build()
    try:
        response = client.request(
            "POST",
            url,
            content=request.as_bytes(),
            headers={"Content-Type": "application/timestamp-query"},
            deadline_s=DEADLINE_S,
            max_bytes=MAX_RESPONSE_BYTES,
        )
    except EgressError as exc:
        raise TimestampFailed(str(exc)) from None
    if response.status_code != 200:
        raise TimestampFailed(f"{response.origin} answered {response.status_code}, not a timestamp.")
    try:
        answer = decode_timestamp_response(response.content)
    except ValueError:
        raise TimestampFailed(f"{response.origin} answered something that is not a timestamp response.") from None
    if answer.status not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        raise TimestampFailed(f"{response.origin} refused the timestamp (PKI status {answer.status}).")
    info = answer.tst_info
    if info.message_imprint.message != hashlib.sha256(data).digest():
        raise TimestampFailed(f"{response.origin} timestamped another digest than the one asked for.")
    if info.nonce != request.nonce:
        raise TimestampFailed(f"{response.origin} answered with another request's nonce (a replay?).")
    return answer.time_stamp_token()
