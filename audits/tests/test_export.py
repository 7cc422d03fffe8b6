"""Export as JSON Lines and the standalone offline verifier, and the forgeries it must reject on a real export."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from audits.canonical import canonical_json
from audits.checkpoints import hmac_checkpoint_signature
from audits.models import Checkpoint
from audits.services import checkpoint_create
from audits.signing import Signer, checkpoint_message, write_key_pair
from audits.tests.factories import record_events

pytestmark = pytest.mark.django_db

VERIFIER = Path(settings.BASE_DIR) / "audits" / "verify_export.py"


def public_key_file() -> str:
    """The test session's checkpoint public key (fmgov/settings/test.py makes the pair)."""
    return settings.AUDIT_PUBLIC_KEY_FILES.split(",")[0]


def run_verifier(path: Path, *extra: str, key: bool = True) -> subprocess.CompletedProcess:
    # -I: isolated mode, no site-packages and no project on the path: the standard library only.
    keys = ("--public-key", public_key_file()) if key else ()
    return subprocess.run(
        [sys.executable, "-I", str(VERIFIER), str(path), *keys, *extra], capture_output=True, text=True, timeout=60
    )


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write_export(path: Path, lines: list[dict]) -> Path:
    """Write lines as an export whose trailer is recomputed, as a forger with the format in hand would."""
    body = [line for line in lines if line["type"] != "trailer"]
    data = "".join(canonical_json(line) + "\n" for line in body).encode("utf-8")
    trailer = {
        "type": "trailer",
        "events": sum(line["type"] == "event" for line in body),
        "checkpoints": sum(line["type"] == "checkpoint" for line in body),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    path.write_bytes(data + (canonical_json(trailer) + "\n").encode("utf-8"))
    return path


@pytest.fixture
def exported(tmp_path, django_capture_on_commit_callbacks) -> Path:
    """23 events; checkpoints at 20 and (signed by the export command) at 23."""
    with django_capture_on_commit_callbacks(execute=True):
        record_events(20)
        checkpoint_create()
        record_events(3)
        path = tmp_path / "trail.jsonl"
        call_command("export_audit_trail", str(path))
    return path


def test_export_verifies_offline_with_the_public_key(exported):
    result = run_verifier(exported)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: 23 events, 2 checkpoints; the last checkpoint's signature verified" in result.stdout
    result = run_verifier(exported, "--all-signatures")
    assert result.returncode == 0 and "every checkpoint's signature verified" in result.stdout


def test_without_the_public_key_nothing_verifies(exported):
    result = run_verifier(exported, key=False)
    assert result.returncode == 1 and "not among the --public-key files given" in result.stdout


def test_a_checkpoint_signed_by_a_key_not_given_fails(exported, tmp_path):
    _private, other_public, _key = write_key_pair(tmp_path / "other")
    result = subprocess.run(
        [sys.executable, "-I", str(VERIFIER), str(exported), "--public-key", str(other_public)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1 and "which is not among the --public-key files given" in result.stdout


def test_a_checkpoint_forged_with_another_key_fails(exported, tmp_path):
    """An insider signs the head with a key of their own, claiming the real key id."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    lines = read_lines(exported)
    checkpoint = dict(lines[-2])
    forger = Signer(Ed25519PrivateKey.generate(), tmp_path / "forger.pem")
    message = checkpoint_message(
        seq=checkpoint["seq"],
        head_hash=checkpoint["head_hash"],
        created_at="2030-01-01T00:00:00.000000+00:00",
        key=checkpoint["key_id"],
    )
    checkpoint.update(created_at="2030-01-01T00:00:00.000000+00:00", signature=forger._private.sign(message).hex())
    path = write_export(tmp_path / "forged.jsonl", [*lines[:-2], checkpoint])
    result = run_verifier(path)
    assert result.returncode == 1 and "invalid Ed25519 signature" in result.stdout


def test_every_single_byte_edit_fails(exported, tmp_path):
    data = exported.read_bytes()
    # Every 37th byte and the edges: header, events, checkpoints, trailer, newlines.
    positions = sorted(set(range(0, len(data), 37)) | {0, len(data) - 1, len(data) - 2})
    for position in positions:
        edited = bytearray(data)
        edited[position] = (edited[position] + 1) % 256 if edited[position] != ord("\n") else ord(" ")
        path = tmp_path / "edited.jsonl"
        path.write_bytes(bytes(edited))
        result = run_verifier(path)
        assert result.returncode != 0, f"an edit at byte {position} went unnoticed"
        assert result.stdout.startswith("FAILED: line "), result.stdout


def test_the_tail_cut_with_its_checkpoint_dropped_and_the_trailer_recomputed_fails(exported, tmp_path):
    lines = read_lines(exported)
    events = [line for line in lines if line["type"] == "event"]
    checkpoints = [line for line in lines if line["type"] == "checkpoint"]
    assert [cp["seq"] for cp in checkpoints] == [20, 23]
    path = write_export(tmp_path / "cut.jsonl", [lines[0], *events[:22], checkpoints[0]])
    result = run_verifier(path)
    assert result.returncode == 1, result.stdout
    assert "the last checkpoint covers sequence 20 but the chain ends at 22" in result.stdout
    no_checkpoint = write_export(tmp_path / "bare.jsonl", [lines[0], *events[:22]])
    result = run_verifier(no_checkpoint)
    assert result.returncode == 1 and "no checkpoint" in result.stdout


def test_a_rollback_is_caught_by_a_later_known_checkpoint(exported, tmp_path):
    lines = read_lines(exported)
    events = [line for line in lines if line["type"] == "event"]
    checkpoints = [line for line in lines if line["type"] == "checkpoint"]
    # Cut back exactly to the older checkpoint: on its own a consistent, older export.
    rolled_back = write_export(tmp_path / "old.jsonl", [lines[0], *events[:20], checkpoints[0]])
    assert run_verifier(rolled_back).returncode == 0
    known = tmp_path / "witnessed.json"
    known.write_text(json.dumps(checkpoints[1]), encoding="utf-8")
    result = run_verifier(rolled_back, "--known-checkpoint", str(known))
    assert result.returncode == 1 and "rollback" in result.stdout
    result = run_verifier(exported, "--known-checkpoint", str(known))
    assert result.returncode == 0 and "1 known checkpoints found" in result.stdout


def test_a_known_checkpoint_of_another_history_fails(exported, tmp_path):
    checkpoint = read_lines(exported)[-3]
    assert checkpoint["type"] == "checkpoint" and checkpoint["seq"] == 20
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps({**checkpoint, "head_hash": "0" * 64}), encoding="utf-8")
    result = run_verifier(exported, "--known-checkpoint", str(tampered))
    assert result.returncode == 1 and "invalid Ed25519 signature" in result.stdout


def test_an_edited_event_names_its_line(exported, tmp_path):
    lines = exported.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[5] = lines[5].replace("thing", "thinG", 1)
    path = tmp_path / "forged.jsonl"
    path.write_text("".join(lines), encoding="utf-8")
    result = run_verifier(path)
    assert result.returncode == 1 and result.stdout.startswith("FAILED: line 6:")


def test_old_hmac_checkpoints_verify_with_the_old_key(tmp_path, settings, django_capture_on_commit_callbacks):
    from django.utils import timezone

    from audits.canonical import format_timestamp
    from audits.selectors import chain_head, verify_chain

    settings.AUDIT_CHECKPOINT_KEY = "the-old-checkpoint-key"
    record_events(4)
    seq, head_hash = chain_head()
    created_at = timezone.now()
    signature = hmac_checkpoint_signature(seq, head_hash, format_timestamp(created_at), "the-old-checkpoint-key")
    Checkpoint(seq=seq, head_hash=head_hash, created_at=created_at, algorithm="hmac-sha256", signature=signature).save()
    assert verify_chain().ok
    with django_capture_on_commit_callbacks(execute=True):
        record_events(1)
        path = tmp_path / "trail.jsonl"
        call_command("export_audit_trail", str(path))
    result = run_verifier(path, "--all-signatures", "--hmac-key", "the-old-checkpoint-key")
    assert result.returncode == 0, result.stdout
    result = run_verifier(path, "--all-signatures")
    assert result.returncode == 1 and "give --hmac-key" in result.stdout
    result = run_verifier(path, "--all-signatures", "--hmac-key", "a-wrong-key")
    assert result.returncode == 1 and "invalid HMAC signature" in result.stdout
    settings.AUDIT_CHECKPOINT_KEY = "a-wrong-key"
    assert not verify_chain().ok
