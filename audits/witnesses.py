"""Witnesses: places outside the database that receive every checkpoint (``AUDIT_WITNESSES``).

- ``dir:/path`` — a directory, ideally a WORM or object-lock mount: one file per
  checkpoint, ``<seq>.json``, created with O_EXCL and never overwritten. A file
  already there with the same head hash is that checkpoint witnessed before; one
  with another hash means the chain at that sequence was rewritten, and fails.
- ``https://…`` (or ``http://`` where the egress policy allows the host) — the
  checkpoint JSON POSTed through the egress client; any 2xx is a receipt.
- ``email`` — the auditors, each at most once per checkpoint.

Each file and body is the checkpoint as ``--known-checkpoint`` reads it, so an
auditor can hand any of them to ``audits/verify_export.py`` to catch a rollback.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from audits.canonical import canonical_json
from audits.hooks import auditor_email_send
from fmgov.core.egress import EgressClient, EgressError

__all__ = ["WitnessFailed", "witness_publish"]

DEADLINE_S = 30.0


class WitnessFailed(Exception):
    """The witness did not take the checkpoint; the message says which and why."""


def _write_once(directory: Path, record: dict[str, Any]) -> None:
    body = (canonical_json(record) + "\n").encode("utf-8")
    path = directory / f"{record['seq']:012d}.json"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
    except FileExistsError:
        try:
            held = json.loads(path.read_bytes())
        except (OSError, ValueError):
            raise WitnessFailed(f"{path} exists and is not a checkpoint; it is never overwritten.") from None
        if held.get("head_hash") != record["head_hash"]:
            raise WitnessFailed(
                f"{path} holds another head hash for sequence {record['seq']}: the chain was rewritten "
                "after it was witnessed."
            ) from None
        return  # this head was witnessed already (a retry, or a second checkpoint of the same head)
    except OSError as exc:
        raise WitnessFailed(f"cannot create {path}: {exc.strerror}.") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise WitnessFailed(f"cannot write {path}: {exc.strerror}.") from None


def _post(url: str, record: dict[str, Any], client: EgressClient) -> None:
    try:
        response = client.request("POST", url, json=record, deadline_s=DEADLINE_S, max_bytes=64 * 1024)
    except EgressError as exc:
        raise WitnessFailed(str(exc)) from None
    if not 200 <= response.status_code < 300:
        raise WitnessFailed(f"{response.origin} answered {response.status_code}, not a receipt.")


def _email(record: dict[str, Any], key: str) -> None:
    body = (
        f"fmgov signed a checkpoint of its audit trail at sequence {record['seq']}.\n"
        "Keep this message: give the JSON below to audits/verify_export.py as --known-checkpoint to prove that a "
        "later export still holds this head.\n\n" + json.dumps(record, indent=2, sort_keys=True) + "\n"
    )
    try:
        auditor_email_send(key=key, subject=f"fmgov audit checkpoint at sequence {record['seq']}", body=body)
    except ValueError as exc:
        raise WitnessFailed(f"e-mail to the auditors failed: {exc}") from None
    except Exception as exc:  # any SMTP or backend error: it is reported, never swallowed
        raise WitnessFailed(f"e-mail to the auditors failed ({exc.__class__.__name__}).") from None


def witness_publish(spec: str, record: dict[str, Any], *, key: str, client: EgressClient) -> None:
    """Hand one checkpoint to the witness named by ``spec``; WitnessFailed if it did not take it."""
    if spec.startswith("dir:"):
        _write_once(Path(spec[4:]), record)
    elif spec.startswith(("https://", "http://")):
        _post(spec, record, client)
    elif spec == "email":
        _email(record, key)
    else:
        raise WitnessFailed(f"unknown witness {spec!r} in AUDIT_WITNESSES (dir:PATH, an https:// URL, or email).")
