"""RFC 3161 timestamps and witnesses of checkpoints (audits.anchors), against a local TSA and local witnesses."""

import base64
import hashlib
import json
import subprocess

import pytest
from django.core import mail
from django.core.management import call_command

from audits.anchors import AnchorsIncomplete, checkpoint_anchor
from audits.models import Checkpoint, CheckpointAnchor
from audits.services import checkpoint_create
from audits.tasks import checkpoint_audit_trail
from audits.tests.factories import record_events
from audits.tests.local_tsa import LocalTSA
from audits.tests.test_export import read_lines, run_verifier, write_export
from audits.timestamps import TimestampFailed, checkpoint_statement, timestamp_fetch
from fmgov.core.egress import EgressClient
from fmgov.core.testing.listener import Listener, json_answer
from fmgov.findings.models import Finding

pytestmark = pytest.mark.django_db


@pytest.fixture
def tsa(tmp_path):
    (tmp_path / "tsa").mkdir()
    with LocalTSA(tmp_path / "tsa") as local:
        yield local


@pytest.fixture
def sign(django_capture_on_commit_callbacks):
    def _sign() -> Checkpoint:
        with django_capture_on_commit_callbacks(execute=True):
            return checkpoint_create()

    return _sign


def openssl_verify(token: bytes, digest_hex: str, ca_file, tmp_path) -> subprocess.CompletedProcess:
    path = tmp_path / "token.tst"
    path.write_bytes(token)
    return subprocess.run(
        ["openssl", "ts", "-verify", "-token_in", "-in", str(path), "-digest", digest_hex, "-CAfile", str(ca_file)],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_each_checkpoint_gets_a_token_that_openssl_verifies_and_not_for_another_digest(tsa, settings, sign, tmp_path):
    settings.AUDIT_TSA_URLS = [tsa.url]
    record_events(3)
    first = sign()
    assert checkpoint_anchor(checkpoint=first) == {}
    record_events(2)
    second = sign()
    assert checkpoint_anchor(checkpoint=second) == {}
    assert checkpoint_anchor(checkpoint=second) == {}  # already anchored: nothing asked again
    assert tsa.requests == 2
    for cp in (first, second):
        anchor = CheckpointAnchor.objects.get(checkpoint=cp, kind=CheckpointAnchor.TIMESTAMP, target=tsa.url)
        digest = hashlib.sha256(checkpoint_statement(cp)).hexdigest()
        ok = openssl_verify(bytes(anchor.token), digest, tsa.ca_file, tmp_path)
        assert ok.returncode == 0 and "Verification: OK" in ok.stdout, ok.stderr
    token = bytes(CheckpointAnchor.objects.get(checkpoint=first).token)
    other = hashlib.sha256(checkpoint_statement(second)).hexdigest()
    refused = openssl_verify(token, other, tsa.ca_file, tmp_path)
    assert refused.returncode != 0 and "Verification: OK" not in refused.stdout


def test_a_token_over_another_digest_or_a_refusal_is_not_kept(tsa):
    class WrongDigest:
        """An authority that timestamps something else than what it was asked for."""

        def request(self, method, url, *, content, **kwargs):
            from rfc3161_client import HashAlgorithm, TimestampRequestBuilder

            forged = TimestampRequestBuilder().data(b"another statement").hash_algorithm(HashAlgorithm.SHA256).build()
            with EgressClient() as client:
                return client.request(method, url, content=forged.as_bytes(), **kwargs)

    with pytest.raises(TimestampFailed, match="another digest"):
        timestamp_fetch(tsa.url, b"the statement", client=WrongDigest())
    tsa.failing = True
    with EgressClient() as client, pytest.raises(TimestampFailed, match="answered 503"):
        timestamp_fetch(tsa.url, b"the statement", client=client)
    with EgressClient() as client, pytest.raises(TimestampFailed, match="refuses"):
        timestamp_fetch("http://10.0.0.1/tsa", b"the statement", client=client)  # the egress policy applies


def test_a_failing_authority_opens_a_finding_and_the_task_retries_until_it_is_anchored(tsa, settings):
    settings.AUDIT_TSA_URLS = [tsa.url]
    record_events(2)
    tsa.failing = True
    with pytest.raises(AnchorsIncomplete, match="answered 503"):
        checkpoint_audit_trail()
    finding = Finding.objects.get(source="witness")
    assert finding.state == "open" and finding.detail["target"] == tsa.url and "503" in finding.detail["problem"]
    assert not CheckpointAnchor.objects.exists()
    with pytest.raises(AnchorsIncomplete):
        checkpoint_audit_trail()  # a retry: it signs the finding's own event (seq 3), still down, still one finding
    assert Finding.objects.filter(source="witness").count() == 1
    assert list(Checkpoint.objects.values_list("seq", flat=True)) == [2, 3]
    tsa.failing = False
    assert checkpoint_audit_trail() == 3  # the newest checkpoint, which covers everything before it
    assert CheckpointAnchor.objects.get().checkpoint == Checkpoint.objects.get(seq=3)


def test_a_witness_directory_receives_each_checkpoint_once_and_never_overwritten(settings, sign, tmp_path):
    witness = tmp_path / "worm"
    witness.mkdir()
    settings.AUDIT_WITNESSES = [f"dir:{witness}"]
    record_events(2)
    assert checkpoint_audit_trail() == 2
    record_events(1)
    assert checkpoint_audit_trail() == 3
    files = sorted(p.name for p in witness.iterdir())
    assert files == ["000000000002.json", "000000000003.json"]
    held = json.loads((witness / "000000000003.json").read_text())
    cp = Checkpoint.objects.get(seq=3)
    assert held == {**held, "seq": 3, "head_hash": cp.head_hash, "signature": cp.signature}
    # Written read-only, by O_EXCL (a WORM or object-lock mount also refuses what a process might still try).
    assert (witness / "000000000003.json").stat().st_mode & 0o222 == 0
    # A second checkpoint of the same head finds its file there already: witnessed, nothing rewritten.
    again = sign()
    assert checkpoint_anchor(checkpoint=again) == {}
    # A file at that sequence with another hash (a rewritten chain being witnessed) fails, loudly.
    (witness / "000000000004.json").write_text(json.dumps({"seq": 4, "head_hash": "0" * 64}))
    record_events(1)
    with pytest.raises(AnchorsIncomplete, match="another head hash"):
        checkpoint_audit_trail()
    assert json.loads((witness / "000000000004.json").read_text())["head_hash"] == "0" * 64
    assert Finding.objects.filter(source="witness", dedupe_key=f"audit-anchor:witness:dir:{witness}").exists()


def test_a_failing_witness_opens_a_finding(settings, tmp_path):
    settings.AUDIT_WITNESSES = [f"dir:{tmp_path / 'not-mounted'}"]
    record_events(1)
    with pytest.raises(AnchorsIncomplete, match="cannot create"):
        checkpoint_audit_trail()
    finding = Finding.objects.get(source="witness")
    assert "Audit witness failed" in finding.title and finding.detail["checkpoint_seq"] == 1
    assert not CheckpointAnchor.objects.exists()


def test_an_http_witness_is_posted_the_checkpoint_and_a_refusing_one_is_a_finding(settings):
    with Listener() as good, Listener(json_answer({"error": "no"}, status=500)) as bad:
        settings.AUDIT_WITNESSES = [f"{good.url}/checkpoints", f"{bad.url}/checkpoints"]
        record_events(1)
        with pytest.raises(AnchorsIncomplete, match="answered 500"):
            checkpoint_audit_trail()
        assert [(seen.method, seen.path) for seen in good.requests] == [("POST", "/checkpoints")]
        assert good.requests[0].headers["content-type"] == "application/json"
    anchored = CheckpointAnchor.objects.values_list("target", flat=True)
    assert list(anchored) == [f"{good.url}/checkpoints"]
    assert Finding.objects.get(source="witness").detail["target"] == f"{bad.url}/checkpoints"


def test_the_auditors_are_emailed_each_checkpoint_once(settings, auditor):
    auditor.email = "auditor@example.org"
    auditor.save()
    settings.AUDIT_WITNESSES = ["email"]
    record_events(1)
    checkpoint_audit_trail()
    checkpoint_audit_trail()
    assert [message.to for message in mail.outbox] == [["auditor@example.org"]]
    checkpoint = Checkpoint.objects.get()
    assert f"sequence {checkpoint.seq}" in mail.outbox[0].subject and checkpoint.signature in mail.outbox[0].body


def test_no_auditor_to_email_is_a_failure_not_silence(settings):
    settings.AUDIT_WITNESSES = ["email"]
    record_events(1)
    with pytest.raises(AnchorsIncomplete, match="No active auditor"):
        checkpoint_audit_trail()
    assert Finding.objects.filter(source="witness").exists()


def test_the_export_carries_the_tokens_and_the_verifier_checks_them(tsa, settings, tmp_path, sign):
    settings.AUDIT_TSA_URLS = [tsa.url]
    record_events(4)
    checkpoint_anchor(checkpoint=sign())
    record_events(2)
    path = tmp_path / "export.jsonl"
    call_command("export_audit_trail", str(path))  # signs the head and timestamps it before reading
    lines = read_lines(path)
    assert lines[0]["version"] == 3
    checkpoints = [line for line in lines if line["type"] == "checkpoint"]
    assert [len(cp["timestamps"]) for cp in checkpoints] == [1, 1]
    assert checkpoints[-1]["timestamps"][0]["tsa"] == tsa.url
    result = run_verifier(path, "--tsa-cert", str(tsa.ca_file), "--all-signatures")
    assert result.returncode == 0 and "2 timestamp tokens verified" in result.stdout, result.stdout
    # Another authority's CA does not vouch for these tokens.
    other = tmp_path / "other"
    other.mkdir()
    result = run_verifier(path, "--tsa-cert", str(LocalTSA(other).ca_file))
    assert result.returncode == 1 and "does not verify" in result.stdout
    # The older checkpoint's token moved onto the newest one (trailer recomputed): another digest, refused.
    forged = [*lines[:-3], checkpoints[0], {**checkpoints[1], "timestamps": checkpoints[0]["timestamps"]}]
    result = run_verifier(write_export(tmp_path / "moved.jsonl", forged), "--tsa-cert", str(tsa.ca_file))
    assert result.returncode == 1 and "does not verify" in result.stdout, result.stdout
    # Dropping the tokens of the newest checkpoint is no way round --tsa-cert.
    bare = [*lines[:-3], checkpoints[0], {**checkpoints[1], "timestamps": []}]
    result = run_verifier(write_export(tmp_path / "bare.jsonl", bare), "--tsa-cert", str(tsa.ca_file))
    assert result.returncode == 1 and "carries no timestamp token" in result.stdout
    assert base64.b64decode(checkpoints[1]["timestamps"][0]["token"]) == bytes(
        CheckpointAnchor.objects.get(checkpoint__seq=checkpoints[1]["seq"]).token
    )
