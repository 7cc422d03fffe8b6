"""GET /api/v1/audit-events/export/: the trail as JSON Lines, for auditors and admins, verifiable offline."""

import json

import pytest

from audits.services import checkpoint_create
from audits.tests.factories import record_events
from audits.tests.test_export import run_verifier
from fmgov.core.testing.negotiation import accept_cases, assert_negotiated

pytestmark = pytest.mark.django_db

URL = "/api/v1/audit-events/export/"


def test_export_is_for_auditors_and_admins(client_for, engineer, reviewer, auditor, admin_user):
    assert client_for(engineer).get(URL).status_code == 403
    assert client_for(reviewer).get(URL).status_code == 403
    assert client_for(admin_user).get(URL).status_code == 200
    response = client_for(auditor).get(URL, HTTP_ACCEPT="application/jsonl")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="fmgov-audit-trail-')


def test_the_download_verifies_offline_up_to_the_signed_head(client_for, auditor, tmp_path):
    """The web app cannot sign: its download verifies when the signer has checkpointed the head, not before."""
    client = client_for(auditor)  # signing in is an event too: before the checkpoint
    record_events(5)
    checkpoint_create()
    path = tmp_path / "trail.jsonl"

    def download() -> list[dict]:
        body = b"".join(client.get(URL).streaming_content)
        path.write_bytes(body)
        return [json.loads(line) for line in body.decode().splitlines()]

    lines = download()
    assert lines[0]["type"] == "header" and lines[-1]["type"] == "trailer"
    result = run_verifier(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"OK: {lines[-1]['events']} events, 1 checkpoints" in result.stdout
    record_events(2)
    download()
    result = run_verifier(path)
    assert result.returncode == 1 and "not covered by a signed checkpoint" in result.stdout


@pytest.mark.parametrize(("accept", "status"), accept_cases("application/jsonl"))
def test_export_negotiates_on_accept(client_for, auditor, accept, status):
    headers = {"HTTP_ACCEPT": accept} if accept is not None else {}
    assert_negotiated(client_for(auditor).get(URL, **headers), "application/jsonl", status)
