"""Ed25519 checkpoints: the signer's key, its memory of the last signed head, and processes that only verify."""

import hashlib
import os
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from audits.canonical import format_timestamp
from audits.checkpoints import checkpoint_create
from audits.models import AuditEvent, Checkpoint
from audits.selectors import verify_chain
from audits.signing import (
    SignerRefused,
    SigningKeyUnavailable,
    checkpoint_message,
    key_id,
    load_signer,
    public_keys,
    write_key_pair,
)
from audits.tests.factories import record_events
from audits.tests.test_chain import _tamper

pytestmark = pytest.mark.django_db


@pytest.fixture
def sign(django_capture_on_commit_callbacks):
    """checkpoint_create, with its on-commit step run: the signer records what it signed once it commits."""

    def _sign() -> Checkpoint:
        with django_capture_on_commit_callbacks(execute=True):
            return checkpoint_create()

    return _sign


def test_a_checkpoint_is_an_ed25519_signature_over_its_canonical_json(sign):
    events = record_events(3)
    cp = sign()
    public = public_keys()[0]
    assert cp.algorithm == "ed25519" and cp.key_id == public.key_id and len(cp.signature) == 128
    message = checkpoint_message(
        seq=events[-1].seq, head_hash=events[-1].hash, created_at=format_timestamp(cp.created_at), key=cp.key_id
    )
    assert (
        message
        == (
            f'{{"created_at":"{format_timestamp(cp.created_at)}","head_hash":"{events[-1].hash}",'
            f'"key_id":"{cp.key_id}","seq":{events[-1].seq}}}'
        ).encode()
    )
    public.key.verify(bytes.fromhex(cp.signature), message)  # raises if not genuine
    raw = public.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert cp.key_id == hashlib.sha256(raw).hexdigest()[:16] == key_id(raw)
    assert load_signer().last_signed() == (events[-1].seq, events[-1].hash)
    result = verify_chain()
    assert result.ok and result.checkpoints_checked == 1


def test_the_signer_remembers_only_committed_heads_and_never_moves_back(django_capture_on_commit_callbacks):
    record_events(2)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        checkpoint_create()
        raise RuntimeError("the checkpoint's transaction rolls back")
    signer = load_signer()
    assert signer.last_signed() is None and not Checkpoint.objects.exists()
    signer.remember(5, "a" * 64)
    signer.remember(3, "b" * 64)
    assert signer.last_signed() == (5, "a" * 64)


def test_a_rehashed_chain_is_refused_by_the_signer(sign):
    events = record_events(5)
    sign()
    # An insider with the database: cut back to event 2 and its checkpoints away, then append a history of their
    # own through the app itself, so every hash and the head are consistent again.
    _tamper("DELETE FROM audits_checkpoint", [])
    _tamper("DELETE FROM audits_auditevent WHERE seq > %s", [events[1].seq])
    _tamper("UPDATE audits_chainhead SET seq = %s, hash = %s WHERE id = 1", [events[1].seq, events[1].hash])
    forged = record_events(3, action="test.rewritten")
    assert forged[-1].seq == events[-1].seq and verify_chain().ok  # the database alone no longer tells
    with pytest.raises(SignerRefused, match="was rewritten"):
        checkpoint_create()
    assert not Checkpoint.objects.exists()
    with pytest.raises(CommandError, match="no checkpoint signed"):
        call_command("checkpoint_audit_trail")


def test_a_rolled_back_head_is_refused_by_the_signer(sign):
    events = record_events(4)
    sign()
    _tamper("DELETE FROM audits_checkpoint", [])
    _tamper("DELETE FROM audits_auditevent WHERE seq > %s", [events[1].seq])
    _tamper("UPDATE audits_chainhead SET seq = %s, hash = %s WHERE id = 1", [events[1].seq, events[1].hash])
    with pytest.raises(SignerRefused, match="rollback"):
        checkpoint_create()


def test_a_broken_chain_is_never_signed():
    events = record_events(3)
    _tamper("DELETE FROM audits_auditevent WHERE seq = %s", [events[1].seq])
    with pytest.raises(SignerRefused, match="does not verify"):
        checkpoint_create()


def test_a_web_process_without_the_private_key_serves_and_verifies_but_cannot_sign(settings, sign, client_for, auditor):
    record_events(3)
    sign()
    settings.AUDIT_SIGNING_KEY_FILE = ""
    with pytest.raises(SigningKeyUnavailable):
        checkpoint_create()
    with pytest.raises(CommandError, match="cannot sign"):
        call_command("checkpoint_audit_trail")
    with pytest.raises(CommandError, match="nothing exported"):
        call_command("export_audit_trail", os.devnull)
    assert Checkpoint.objects.count() == 1
    client = client_for(auditor)
    verified = client.get("/api/v1/audit-events/verify/").json()
    assert verified["ok"] and verified["checkpoints_checked"] == 1
    assert client.get("/api/v1/audit-events/").status_code == 200
    keys = client.get("/api/v1/audit-events/public-keys/").json()
    assert [k["key_id"] for k in keys] == [public_keys()[0].key_id]
    assert keys[0]["algorithm"] == "ed25519" and keys[0]["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")


def test_public_keys_are_for_auditors_and_admins(client_for, engineer):
    assert client_for(engineer).get("/api/v1/audit-events/public-keys/").status_code == 403


def test_a_checkpoint_by_an_unconfigured_key_or_outside_its_window_fails(settings, sign, tmp_path):
    record_events(2)
    sign()
    own = settings.AUDIT_PUBLIC_KEY_FILES
    _private, other, _id = write_key_pair(tmp_path / "other")
    settings.AUDIT_PUBLIC_KEY_FILES = str(other)
    result = verify_chain()
    assert not result.ok and "not configured" in result.reason
    settings.AUDIT_PUBLIC_KEY_FILES = f"{other},{own};from=2020-01-01T00:00:00Z;until=2021-01-01T00:00:00Z"
    result = verify_chain()
    assert not result.ok and "outside its validity window" in result.reason
    settings.AUDIT_PUBLIC_KEY_FILES = f"{other},{own};from=2020-01-01T00:00:00Z"
    assert verify_chain().ok


def test_a_forged_ed25519_signature_is_detected():
    record_events(2)
    cp = checkpoint_create()
    flipped = ("0" if cp.signature[0] != "0" else "1") + cp.signature[1:]
    _tamper("UPDATE audits_checkpoint SET signature = %s WHERE id = %s", [flipped, cp.pk])
    result = verify_chain()
    assert not result.ok and "invalid signature" in result.reason


def test_the_beat_task_signs_only_when_the_trail_has_grown():
    from audits.tasks import checkpoint_audit_trail

    events = record_events(2)
    assert checkpoint_audit_trail() == events[-1].seq
    assert checkpoint_audit_trail() == events[-1].seq
    assert Checkpoint.objects.count() == 1
    more = record_events(1)
    assert checkpoint_audit_trail() == more[-1].seq
    assert list(Checkpoint.objects.values_list("seq", flat=True)) == [events[-1].seq, more[-1].seq]


def test_keygen_writes_a_pair_and_never_overwrites(tmp_path, capsys):
    call_command("audit_keygen", str(tmp_path / "keys"))
    private, public = tmp_path / "keys" / "audit-signing-key.pem", tmp_path / "keys" / "audit-signing-key.pub.pem"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_text().startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8
    loaded = serialization.load_pem_public_key(public.read_bytes())
    raw = loaded.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert f"key id {key_id(raw)}" in capsys.readouterr().out
    before = private.read_bytes()
    with pytest.raises(CommandError, match="not overwriting"):
        call_command("audit_keygen", str(tmp_path / "keys"))
    assert private.read_bytes() == before


def test_the_event_table_is_untouched_by_signing():
    record_events(2)
    count = AuditEvent.objects.count()
    checkpoint_create()
    assert AuditEvent.objects.count() == count


@pytest.mark.parametrize(
    ("signer", "key_file", "starts"),
    [("1", "", False), ("1", "the-key", True), ("", "", True)],
    ids=["signer-without-key", "signer-with-key", "web-without-key"],
)
def test_production_refuses_to_start_the_signer_without_a_key(signer, key_file, starts, tmp_path):
    import secrets
    import subprocess
    import sys

    from django.conf import settings

    from fmgov.settings.dev_keys import new_key_pair

    if key_file == "the-key":
        key_file = str(write_key_pair(tmp_path / "keys")[0])
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "fmgov.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "AUDIT_CHECKPOINT_KEY": secrets.token_urlsafe(32),
        "CREDENTIAL_PUBLIC_KEY": new_key_pair()[1],
        "ALLOWED_HOSTS": "fmgov.example.org",
        "AUDIT_SIGNER": signer,
        "AUDIT_SIGNING_KEY_FILE": key_file,
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert (result.returncode == 0) is starts, result.stderr[-2000:]
    if not starts:
        assert "AUDIT_SIGNING_KEY_FILE" in result.stderr
