"""Export as JSON Lines and the standalone offline verifier."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from audits.services import checkpoint_create
from audits.tests.factories import record_events

pytestmark = pytest.mark.django_db

VERIFIER = Path(settings.BASE_DIR) / "audits" / "verify_export.py"


def run_verifier(path: Path, *extra: str) -> subprocess.CompletedProcess:
    # -I: isolated mode, no site-packages and no project on the path: the standard library only.
    return subprocess.run(
        [sys.executable, "-I", str(VERIFIER), str(path), *extra], capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def exported(tmp_path) -> Path:
    record_events(20)
    checkpoint_create()
    record_events(3)
    path = tmp_path / "trail.jsonl"
    call_command("export_audit_trail", str(path))
    return path


def test_export_verifies_offline_with_the_key(exported):
    result = run_verifier(exported, "--key", settings.AUDIT_CHECKPOINT_KEY)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: 23 events, 1 checkpoints (signatures checked)" in result.stdout


def test_a_wrong_key_fails(exported):
    result = run_verifier(exported, "--key", "not-the-key")
    assert result.returncode == 1 and "invalid signature" in result.stdout


def test_every_single_byte_edit_fails(exported, tmp_path):
    data = exported.read_bytes()
    # Every 37th byte and the edges: header, events, checkpoint, trailer, newlines.
    positions = sorted(set(range(0, len(data), 37)) | {0, len(data) - 1, len(data) - 2})
    for position in positions:
        edited = bytearray(data)
        edited[position] = (edited[position] + 1) % 256 if edited[position] != ord("\n") else ord(" ")
        path = tmp_path / "edited.jsonl"
        path.write_bytes(bytes(edited))
        result = run_verifier(path)
        assert result.returncode != 0, f"an edit at byte {position} went unnoticed"
        assert result.stdout.startswith("FAILED: line "), result.stdout


def test_a_truncated_file_fails(exported, tmp_path):
    lines = exported.read_bytes().splitlines(keepends=True)
    path = tmp_path / "cut.jsonl"
    path.write_bytes(b"".join(lines[:-3]))
    assert run_verifier(path).returncode == 1


def test_an_edited_event_names_its_line(exported, tmp_path):
    lines = exported.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[5] = lines[5].replace("thing", "thinG", 1)
    path = tmp_path / "forged.jsonl"
    path.write_text("".join(lines), encoding="utf-8")
    result = run_verifier(path)
    assert result.returncode == 1 and result.stdout.startswith("FAILED: line 6:")
