#!/usr/bin/env python3
"""Verify an fmgov audit-trail export offline, with the Python standard library only.

Usage:  python3 verify_export.py EXPORT.jsonl [--key CHECKPOINT_KEY]

Checks that every line is canonical JSON, that the events form an unbroken
hash chain from the genesis value with no gap in sequence numbers, that every
checkpoint names an event and its hash (and, given the key, that its HMAC-SHA256
signature is genuine), that no checkpoint lies beyond the last event (a cut
tail), and that the trailer's SHA-256 covers every preceding byte.

Exit status 0 when all holds; 1 with the first bad line and why otherwise.
The hash:  sha256( prev_hash as ASCII || canonical_json(event) as UTF-8 ), where
canonical JSON has sorted keys, no whitespace, UTF-8, and the event holds the
fields listed in HASHED_FIELDS below.
"""

import argparse
import hashlib
import hmac
import json
import re
import sys

GENESIS_HASH = hashlib.sha256(b"fmgov audit trail genesis v1").hexdigest()
HASHED_FIELDS = (
    "seq",
    "timestamp",
    "actor_id",
    "actor_username",
    "actor_system",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "changes",
    "context",
    "prev_hash",
)


def canonical_json(value) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    # Lone surrogates cannot be UTF-8: canonical JSON spells them \udxxx (export version 2).
    return re.sub("[\ud800-\udfff]", lambda m: f"\\u{ord(m.group()):04x}", text)


class Invalid(Exception):
    def __init__(self, line_no: int, reason: str):
        super().__init__(f"line {line_no}: {reason}")


def verify(path: str, key: str | None = None) -> dict:  # noqa: C901 -- one readable pass for a stdlib-only script; rewritten with issue 14
    digest = hashlib.sha256()
    prev_hash, expected_seq = GENESIS_HASH, 1
    hash_at = {0: GENESIS_HASH}
    checkpoints = []
    trailer = None
    with open(path, "rb") as handle:
        raw_lines = handle.read().split(b"\n")
    if raw_lines and raw_lines[-1] == b"":
        raw_lines.pop()
    else:
        raise Invalid(len(raw_lines), "the file does not end with a newline (truncated?)")
    for number, raw in enumerate(raw_lines, start=1):
        if trailer is not None:
            raise Invalid(number, "content after the trailer")
        try:
            text = raw.decode("utf-8")
            obj = json.loads(text)
        except (UnicodeDecodeError, ValueError) as exc:
            raise Invalid(number, f"not valid UTF-8 JSON ({exc})") from None
        if not isinstance(obj, dict) or canonical_json(obj) != text:
            raise Invalid(number, "not in canonical form")
        kind = obj.get("type")
        if number == 1:
            if kind != "header" or obj.get("format") != "fmgov-audit-trail" or obj.get("version") not in (1, 2):
                raise Invalid(number, "not an fmgov audit-trail export header")
            if obj.get("genesis") != GENESIS_HASH:
                raise Invalid(number, "unexpected genesis hash")
        elif kind == "event":
            if checkpoints:
                raise Invalid(number, "event after checkpoints")
            seq = obj.get("seq")
            if seq != expected_seq:
                raise Invalid(number, f"gap: expected sequence {expected_seq}, found {seq}")
            if obj.get("prev_hash") != prev_hash:
                raise Invalid(number, f"sequence {seq}: previous hash does not match")
            event = {name: obj.get(name) for name in HASHED_FIELDS}
            if set(obj) != set(HASHED_FIELDS) | {"type", "hash"}:
                raise Invalid(number, f"sequence {seq}: unexpected fields")
            computed = hashlib.sha256(prev_hash.encode("ascii") + canonical_json(event).encode("utf-8")).hexdigest()
            if computed != obj.get("hash"):
                raise Invalid(number, f"sequence {seq}: hash mismatch")
            prev_hash, expected_seq = computed, expected_seq + 1
            hash_at[seq] = computed
        elif kind == "checkpoint":
            checkpoints.append((number, obj))
        elif kind == "trailer":
            trailer = (number, obj)
            if obj.get("sha256") != digest.hexdigest():
                raise Invalid(number, "the file's SHA-256 does not match the trailer (edited?)")
            if obj.get("events") != expected_seq - 1 or obj.get("checkpoints") != len(checkpoints):
                raise Invalid(number, "the trailer's counts do not match the file")
            continue
        else:
            raise Invalid(number, f"unknown line type {kind!r}")
        digest.update(raw + b"\n")
    if trailer is None:
        raise Invalid(len(raw_lines), "no trailer: the export is incomplete")
    last_seq = expected_seq - 1
    for number, cp in checkpoints:
        seq = cp.get("seq")
        if not isinstance(seq, int) or seq > last_seq:
            raise Invalid(number, f"missing tail: a checkpoint covers sequence {seq} but the chain ends at {last_seq}")
        if hash_at.get(seq) != cp.get("head_hash"):
            raise Invalid(number, f"checkpoint at sequence {seq} names a different hash")
        if key is not None:
            message = f"{seq}|{cp.get('head_hash')}|{cp.get('created_at')}".encode()
            expected = hmac.new(key.encode(), message, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected, str(cp.get("signature"))):
                raise Invalid(number, f"checkpoint at sequence {seq} has an invalid signature")
    return {"events": last_seq, "checkpoints": len(checkpoints), "head_hash": prev_hash}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--key", help="the AUDIT_CHECKPOINT_KEY, to check checkpoint signatures")
    args = parser.parse_args(argv)
    try:
        summary = verify(args.path, args.key)
    except Invalid as exc:
        print(f"FAILED: {exc}")
        return 1
    except OSError as exc:
        print(f"FAILED: cannot read {args.path}: {exc}")
        return 2
    signed = " (signatures checked)" if args.key else " (signatures not checked: no --key)"
    print(f"OK: {summary['events']} events, {summary['checkpoints']} checkpoints{signed}, head {summary['head_hash']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
