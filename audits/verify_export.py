#!/usr/bin/env python3
"""Verify an fmgov audit-trail export offline, with the Python standard library only.

Usage:  python3 verify_export.py EXPORT.jsonl --public-key AUDIT_KEY.pub.pem [--public-key OLD.pub.pem]
                [--known-checkpoint CHECKPOINT.json ...] [--all-signatures] [--hmac-key OLD_CHECKPOINT_KEY]
                [--tsa-cert TSA_CA.pem]

Checks that every line is canonical JSON, that the events form an unbroken hash chain from the genesis value
with no gap, that every checkpoint names an event and its hash and none lies beyond the last event, and that
the trailer's SHA-256 covers every preceding byte. Then: the last event must be covered by a checkpoint whose
Ed25519 signature verifies under a --public-key (a recomputed trailer after cutting the tail cannot pass); each
--known-checkpoint (obtained earlier, e.g. from a witness) must be genuinely signed and found in the export
(a rollback cannot pass); --all-signatures checks every checkpoint; old HMAC-SHA256 checkpoints verify with
--hmac-key. With --tsa-cert (PEM certificates the timestamp authorities chain to) the RFC 3161 tokens of the
last checkpoint (of all with --all-signatures) must pass `openssl ts -verify` over SHA-256 of the canonical
JSON of its STATEMENT_FIELDS, and the last checkpoint must carry one.

Exit status 0 when all holds; 1 with the first bad line and why otherwise.
The hash:  sha256( prev_hash as ASCII || canonical_json(event) as UTF-8 ), where
canonical JSON has sorted keys, no whitespace, UTF-8, and the event holds the
fields listed in HASHED_FIELDS below. A checkpoint's Ed25519 signature is over
canonical_json({"seq", "head_hash", "created_at", "key_id"}); the key id is the
first 16 hex digits of SHA-256 of the raw 32-byte public key.
"""

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import re
import subprocess
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


class Refused(Exception):
    """A failure that is not about one line of the export: a key file, a known checkpoint."""


# --- Ed25519 verification (RFC 8032, section 5.1.7), pure Python ----------------------------------------
# Checked against the RFC's section 7.1 test vectors (tests/data/rfc8032). Verification only: nothing secret
# is handled here, so constant time does not matter.
_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _recover_x(y: int, sign: int):
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P)
    if x2 % _P == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P:
        return None
    return _P - x if (x & 1) != sign else x


def _point_add(a, b):
    # Extended homogeneous coordinates (X, Y, Z, T), x = X/Z, y = Y/Z, x*y = T/Z.
    pa = (a[1] - a[0]) * (b[1] - b[0]) % _P
    pb = (a[1] + a[0]) * (b[1] + b[0]) % _P
    pc = 2 * a[3] * b[3] * _D % _P
    pd = 2 * a[2] * b[2] % _P
    e, f, g, h = pb - pa, pd - pc, pd + pc, pb + pa
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _point_mul(scalar: int, point):
    result = (0, 1, 1, 0)
    while scalar:
        if scalar & 1:
            result = _point_add(result, point)
        point = _point_add(point, point)
        scalar >>= 1
    return result


def _point_equal(a, b) -> bool:
    return (a[0] * b[2] - b[0] * a[2]) % _P == 0 and (a[1] * b[2] - b[1] * a[2]) % _P == 0


def _point_decompress(data: bytes):
    if len(data) != 32:
        return None
    y = int.from_bytes(data, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % _P)


_G_Y = 4 * pow(5, _P - 2, _P) % _P
_G_X = _recover_x(_G_Y, 0)
_G = (_G_X, _G_Y, 1, _G_X * _G_Y % _P)


def ed25519_verify(public: bytes, message: bytes, signature: bytes) -> bool:
    """RFC 8032 Ed25519 verification of ``signature`` over ``message`` by the raw 32-byte ``public`` key."""
    if len(public) != 32 or len(signature) != 64:
        return False
    a, r = _point_decompress(public), _point_decompress(signature[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= _L:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % _L
    return _point_equal(_point_mul(s, _G), _point_add(r, _point_mul(h, a)))


# DER of an Ed25519 SubjectPublicKeyInfo is this fixed prefix and the 32 raw key bytes.
_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


def load_public_key(path: str) -> tuple[str, bytes]:
    """(key id, raw 32 bytes) of a PEM Ed25519 public key; the key id as fmgov computes it."""
    try:
        with open(path, encoding="ascii") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise Refused(f"cannot read public key {path}: {exc}") from None
    begin, end = "-----BEGIN PUBLIC KEY-----", "-----END PUBLIC KEY-----"
    if begin not in text or end not in text:
        raise Refused(f"{path} is not a PEM public key")
    body = text.split(begin, 1)[1].split(end, 1)[0]
    try:
        der = base64.b64decode("".join(body.split()), validate=True)
    except (binascii.Error, ValueError):
        raise Refused(f"{path} is not a PEM public key") from None
    if len(der) != 44 or not der.startswith(_SPKI_PREFIX):
        raise Refused(f"{path} is not an Ed25519 public key")
    raw = der[12:]
    return hashlib.sha256(raw).hexdigest()[:16], raw


def signature_problem(cp: dict, keys: dict, hmac_key) -> str | None:
    """None when the checkpoint is signed by a given key; else why not."""
    algorithm, signature = cp.get("algorithm"), cp.get("signature")
    if not isinstance(signature, str):
        return "no signature"
    if algorithm == "hmac-sha256":
        if hmac_key is None:
            return "an HMAC checkpoint: give --hmac-key (the old AUDIT_CHECKPOINT_KEY) to check it"
        message = f"{cp.get('seq')}|{cp.get('head_hash')}|{cp.get('created_at')}".encode()
        expected = hmac.new(hmac_key.encode(), message, hashlib.sha256).hexdigest()
        return None if hmac.compare_digest(expected, signature) else "invalid HMAC signature"
    if algorithm != "ed25519":
        return f"unknown signature algorithm {algorithm!r}"
    key_id = cp.get("key_id")
    if key_id not in keys:
        return f"signed by key {key_id}, which is not among the --public-key files given"
    signed = {name: cp.get(name) for name in ("seq", "head_hash", "created_at", "key_id")}
    try:
        raw_signature = bytes.fromhex(signature)
    except ValueError:
        return "the signature is not hexadecimal"
    if not ed25519_verify(keys[key_id], canonical_json(signed).encode("utf-8"), raw_signature):
        return f"invalid Ed25519 signature (key {key_id})"
    return None


class _Walk:
    """One pass over the export's lines: the header, the chained events, the checkpoints, the trailer."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.prev_hash, self.expected_seq = GENESIS_HASH, 1
        self.hash_at = {0: GENESIS_HASH}
        self.checkpoints: list = []
        self.trailer = None

    def line(self, number: int, raw: bytes) -> None:
        if self.trailer is not None:
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
            self.header(number, obj)
        elif kind == "event":
            self.event(number, obj)
        elif kind == "checkpoint":
            self.checkpoints.append((number, obj))
        elif kind == "trailer":
            self.end(number, obj)
            return
        else:
            raise Invalid(number, f"unknown line type {kind!r}")
        self.digest.update(raw + b"\n")

    @staticmethod
    def header(number: int, obj: dict) -> None:
        if obj.get("type") != "header" or obj.get("format") != "fmgov-audit-trail" or obj.get("version") not in (2, 3):
            raise Invalid(number, "not an fmgov audit-trail export header")
        if obj.get("genesis") != GENESIS_HASH:
            raise Invalid(number, "unexpected genesis hash")

    def event(self, number: int, obj: dict) -> None:
        if self.checkpoints:
            raise Invalid(number, "event after checkpoints")
        seq = obj.get("seq")
        if seq != self.expected_seq:
            raise Invalid(number, f"gap: expected sequence {self.expected_seq}, found {seq}")
        if obj.get("prev_hash") != self.prev_hash:
            raise Invalid(number, f"sequence {seq}: previous hash does not match")
        event = {name: obj.get(name) for name in HASHED_FIELDS}
        if set(obj) != set(HASHED_FIELDS) | {"type", "hash"}:
            raise Invalid(number, f"sequence {seq}: unexpected fields")
        computed = hashlib.sha256(self.prev_hash.encode("ascii") + canonical_json(event).encode("utf-8")).hexdigest()
        if computed != obj.get("hash"):
            raise Invalid(number, f"sequence {seq}: hash mismatch")
        self.prev_hash, self.expected_seq = computed, self.expected_seq + 1
        self.hash_at[seq] = computed

    def end(self, number: int, obj: dict) -> None:
        self.trailer = (number, obj)
        if obj.get("sha256") != self.digest.hexdigest():
            raise Invalid(number, "the file's SHA-256 does not match the trailer (edited?)")
        if obj.get("events") != self.expected_seq - 1 or obj.get("checkpoints") != len(self.checkpoints):
            raise Invalid(number, "the trailer's counts do not match the file")

    def check_checkpoints(self) -> None:
        last_seq = self.expected_seq - 1
        for number, cp in self.checkpoints:
            seq = cp.get("seq")
            if not isinstance(seq, int) or seq > last_seq:
                raise Invalid(
                    number, f"missing tail: a checkpoint covers sequence {seq} but the chain ends at {last_seq}"
                )
            if self.hash_at.get(seq) != cp.get("head_hash"):
                raise Invalid(number, f"checkpoint at sequence {seq} names a different hash")


def verify(path: str) -> dict:
    """Walk the export: canonical lines, an unbroken chain, checkpoints on it, a trailer that matches."""
    with open(path, "rb") as handle:
        raw_lines = handle.read().split(b"\n")
    if raw_lines and raw_lines[-1] == b"":
        raw_lines.pop()
    else:
        raise Invalid(len(raw_lines), "the file does not end with a newline (truncated?)")
    walk = _Walk()
    for number, raw in enumerate(raw_lines, start=1):
        walk.line(number, raw)
    if walk.trailer is None:
        raise Invalid(len(raw_lines), "no trailer: the export is incomplete")
    walk.check_checkpoints()
    return {
        "events": walk.expected_seq - 1,
        "checkpoints": walk.checkpoints,
        "head_hash": walk.prev_hash,
        "hash_at": walk.hash_at,
        "last_line": len(raw_lines),
    }


def load_known_checkpoint(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            cp = json.load(handle)
    except (OSError, ValueError) as exc:
        raise Refused(f"cannot read known checkpoint {path}: {exc}") from None
    if not isinstance(cp, dict) or not isinstance(cp.get("seq"), int) or not isinstance(cp.get("head_hash"), str):
        raise Refused(f"{path} is not a checkpoint (seq, head_hash, created_at, key_id, signature)")
    cp.setdefault("algorithm", "ed25519")
    return cp


def check_signatures(summary: dict, keys: dict, hmac_key=None, known=(), all_signatures=False) -> str:
    """The signature checks; returns the key that signed the last checkpoint."""
    checkpoints, last_seq = summary["checkpoints"], summary["events"]
    if not checkpoints:
        raise Invalid(summary["last_line"], f"no checkpoint: sequence {last_seq} is not covered by a signature")
    number, last = checkpoints[-1]
    if last.get("seq") != last_seq:
        raise Invalid(
            number,
            f"the last checkpoint covers sequence {last.get('seq')} but the chain ends at {last_seq}: "
            "the newest events are not covered by a signed checkpoint",
        )
    for line, cp in checkpoints if all_signatures else [(number, last)]:
        if problem := signature_problem(cp, keys, hmac_key):
            raise Invalid(line, f"checkpoint at sequence {cp.get('seq')}: {problem}")
    for path, cp in known:
        if problem := signature_problem(cp, keys, hmac_key):
            raise Refused(f"known checkpoint {path}: {problem}")
        seq = cp["seq"]
        if seq > last_seq:
            raise Refused(f"rollback: known checkpoint {path} covers sequence {seq} but the export ends at {last_seq}")
        if summary["hash_at"].get(seq) != cp["head_hash"]:
            raise Refused(f"known checkpoint {path}: the export holds a different event at sequence {seq} (rewritten)")
    return last.get("key_id") or last.get("algorithm")


STATEMENT_FIELDS = ("seq", "head_hash", "created_at", "algorithm", "key_id", "signature")


def timestamp_problem(cp: dict, stamp, tsa_cert: str) -> str | None:
    """None when ``openssl ts -verify`` accepts the token over this checkpoint's statement; else why not."""
    if not isinstance(stamp, dict) or not isinstance(stamp.get("token"), str):
        return "a timestamp without a token"
    try:
        token = base64.b64decode(stamp["token"], validate=True)
    except (binascii.Error, ValueError):
        return f"the token of {stamp.get('tsa')} is not base64"
    digest = hashlib.sha256(canonical_json({k: cp.get(k) for k in STATEMENT_FIELDS}).encode("utf-8")).hexdigest()
    command = ["openssl", "ts", "-verify", "-token_in", "-in", "/dev/stdin", "-digest", digest, "-CAfile", tsa_cert]
    try:
        done = subprocess.run([*command, "-untrusted", tsa_cert], input=token, capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Refused(f"cannot run openssl ts -verify: {exc}") from None
    if done.returncode == 0 and b"Verification: OK" in done.stdout:
        return None
    why = ((done.stderr + done.stdout).decode("utf-8", "replace").strip().splitlines() or ["openssl failed"])[-1]
    return f"the timestamp token of {stamp.get('tsa')} does not verify ({why})"


def check_timestamps(summary: dict, tsa_cert: str, all_checkpoints=False) -> int:
    """The RFC 3161 tokens: those of the last checkpoint (or of all) verify, and the last has one; returns a count."""
    checkpoints = summary["checkpoints"] if all_checkpoints else summary["checkpoints"][-1:]
    if not checkpoints or not checkpoints[-1][1].get("timestamps"):
        raise Invalid(summary["last_line"], "the last checkpoint carries no timestamp token")
    for line, cp in checkpoints:
        for stamp in cp.get("timestamps") or []:
            if problem := timestamp_problem(cp, stamp, tsa_cert):
                raise Invalid(line, f"checkpoint at sequence {cp.get('seq')}: {problem}")
    return sum(len(cp.get("timestamps") or []) for _line, cp in checkpoints)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--public-key", action="append", default=[], metavar="FILE", help="a PEM Ed25519 public key")
    parser.add_argument("--known-checkpoint", action="append", default=[], metavar="FILE", help="a checkpoint JSON")
    parser.add_argument("--all-signatures", action="store_true", help="check every checkpoint, not only the last")
    parser.add_argument("--hmac-key", "--key", dest="hmac_key", help="the old AUDIT_CHECKPOINT_KEY, for HMAC ones")
    parser.add_argument("--tsa-cert", metavar="FILE", help="PEM certificates the timestamp authorities chain to")
    args = parser.parse_args(argv)
    try:
        keys = dict(load_public_key(path) for path in args.public_key)
        known = [(path, load_known_checkpoint(path)) for path in args.known_checkpoint]
        summary = verify(args.path)
        signer = check_signatures(summary, keys, args.hmac_key, known, args.all_signatures)
        stamps = check_timestamps(summary, args.tsa_cert, args.all_signatures) if args.tsa_cert else 0
    except (Invalid, Refused) as exc:
        print(f"FAILED: {exc}")
        return 1
    except OSError as exc:
        print(f"FAILED: cannot read {args.path}: {exc}")
        return 2
    checked = "every checkpoint's signature" if args.all_signatures else "the last checkpoint's signature"
    print(
        f"OK: {summary['events']} events, {len(summary['checkpoints'])} checkpoints; {checked} verified "
        f"(last by {signer}), {len(known)} known checkpoints found, {stamps} timestamp tokens verified; "
        f"head {summary['head_hash']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
