"""Attacks on "render from the hashed bytes" (issue 14), as an insider would try them: each test shows a defence.

"Insider" means someone who can write the database (past the append-only triggers), not the signing key: column
edits anywhere in the chain, rows appended at the tail with a correct chain hash, a forged HMAC checkpoint under the
key web processes held. Rows at the tail are checked exactly before the signer signs (so it refuses them and opens a
finding); what is shown always follows the bytes. The column attacks on readers are in test_attack_columns.py.
"""

import datetime as dt
import hashlib
import json

import pytest
from django.db import connection, transaction
from django.utils import timezone

from audits.canonical import HASHED_FIELDS, canonical_bytes, format_timestamp
from audits.models import AuditEvent, ChainHead
from audits.selectors import verify_chain
from audits.services import audit_record, checkpoint_create
from audits.signing import SignerRefused
from audits.tests.factories import record_events

pytestmark = pytest.mark.django_db

LATER = timezone.now() + dt.timedelta(days=1)


def _tamper(sql: str, params: list) -> None:
    """Change stored rows as an attacker with database access would, past the trigger."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audits_auditevent DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audits_auditevent ENABLE ALWAYS TRIGGER audits_auditevent_no_update_delete")


def _append_raw(data: bytes, **columns) -> int:
    """Append a row at the tail with a correct chain hash over ``data`` and move the head, as an insider could.

    The columns default to what the bytes say where they can (so that only what the caller changes differs).
    """
    head = ChainHead.objects.get(pk=1)
    seq = head.seq + 1
    try:
        said = json.loads(data)
    except (ValueError, RecursionError):
        said = {}
    said = said if isinstance(said, dict) else {}

    def text(name: str, default: str = "") -> str:
        return said[name] if isinstance(said.get(name), str) else default

    try:
        timestamp = dt.datetime.fromisoformat(said["timestamp"])
    except (KeyError, TypeError, ValueError):
        timestamp = timezone.now()
    row = {
        "timestamp": timestamp,
        "actor_id": said.get("actor_id") if isinstance(said.get("actor_id"), int) else None,
        "actor_username": text("actor_username"),
        "actor_system": text("actor_system", "insider"),
        "action": text("action", "forged"),
        "object_type": text("object_type"),
        "object_id": text("object_id"),
        "object_repr": text("object_repr"),
        "changes": said.get("changes", {}) if isinstance(said.get("changes"), dict) else {},
        "context": said.get("context", {}) if isinstance(said.get("context"), dict) else {},
        **columns,
    }
    event = AuditEvent(
        seq=seq,
        prev_hash=head.hash,
        canonical=data,
        hash=hashlib.sha256(head.hash.encode("ascii") + data).hexdigest(),
        **row,
    )
    event.save()
    ChainHead.objects.filter(pk=1).update(seq=seq, hash=event.hash)
    return seq


def _event_bytes(**overrides) -> bytes:
    """Canonical bytes of a plausible event at the tail (seq and prev_hash right unless overridden)."""
    head = ChainHead.objects.get(pk=1)
    values = {
        "seq": head.seq + 1,
        "timestamp": format_timestamp(timezone.now()),
        "actor_id": None,
        "actor_username": "",
        "actor_system": "insider",
        "action": "test.event",
        "object_type": "test.thing",
        "object_id": "1",
        "object_repr": "thing",
        "changes": {},
        "context": {},
        "prev_hash": head.hash,
    }
    values.update(overrides)
    return canonical_bytes(values)


# --- Bytes that re-hash but are not the event the columns link (insider rows at the tail): refused


def test_a_replayed_event_whose_bytes_name_another_seq_fails_verification(engineer):
    events = record_events(3, actor=engineer)
    replayed = bytes(AuditEvent.objects.get(seq=events[0].seq).canonical)
    forged = _append_raw(replayed)

    result = verify_chain()
    assert not result.ok and result.first_bad_seq == forged, result
    with pytest.raises(SignerRefused):  # today it signs: the forged row extends what it signed last
        checkpoint_create()


def test_the_api_never_shows_a_row_under_another_seq(engineer, auditor, client_for):
    events = record_events(3, actor=engineer)
    replayed = bytes(AuditEvent.objects.get(seq=events[0].seq).canonical)
    forged = _append_raw(replayed)
    rows = client_for(auditor).get("/api/v1/audit-events/").json()["results"]
    seqs = [r["seq"] for r in rows]
    assert forged in seqs and len(seqs) == len(set(seqs)), seqs
    assert AuditEvent.objects.get(seq=forged).pk == forged


def test_bytes_that_are_not_an_event_fail_verification():
    record_events(2)
    _append_raw(b"not json at all", action="user.superuser_granted", object_type="auth.user", object_id="1")
    result = verify_chain()
    assert not result.ok, result


def test_bytes_with_a_duplicate_key_fail_verification():
    record_events(1)
    data = _event_bytes(action="test.harmless")
    data = data.replace(b'{"action":"test.harmless",', b'{"action":"test.harmless","action":"user.delete",', 1)
    _append_raw(data, action="test.harmless")
    assert not verify_chain().ok


def test_deeply_nested_bytes_do_not_break_reading(auditor, client_for):
    record_events(1)
    depth = 100_000
    data = _event_bytes().replace(b'"changes":{}', b'"changes":{"x":' + b"[" * depth + b"]" * depth + b"}", 1)
    forged = _append_raw(data)
    event = AuditEvent.objects.get(seq=forged)
    assert event.altered_columns == ("canonical",)
    assert client_for(auditor).get("/api/v1/audit-events/").status_code == 200


def test_select_related_actor_follows_the_bytes(engineer, other_engineer):
    events = record_events(2, actor=engineer)
    _tamper("UPDATE audits_auditevent SET actor_id = %s WHERE seq = %s", [other_engineer.pk, events[0].seq])
    event = AuditEvent.objects.select_related("actor").get(seq=events[0].seq)
    assert event.actor_id == engineer.pk
    assert event.actor == engineer


def _rewrite_as_user_delete(events: list[AuditEvent]) -> str:
    """Rewrite ``events[1]`` (bytes and column) into a user.delete and re-hash every later event, consistently, the
    links named in their bytes included; the head follows. Returns the new head hash."""
    data = bytes(AuditEvent.objects.get(seq=events[1].seq).canonical).replace(b'"test.event"', b'"user.delete"', 1)
    prev = events[0].hash
    for event in events[1:]:
        stored = data if event.seq == events[1].seq else bytes(AuditEvent.objects.get(seq=event.seq).canonical)
        stored = stored.replace(event.prev_hash.encode("ascii"), prev.encode("ascii"), 1)  # bytes that name the link
        new_hash = hashlib.sha256(prev.encode("ascii") + stored).hexdigest()
        _tamper(
            "UPDATE audits_auditevent SET canonical = %s, prev_hash = %s, hash = %s WHERE seq = %s",
            [stored, prev, new_hash, event.seq],
        )
        prev = new_hash
    _tamper("UPDATE audits_auditevent SET action = %s WHERE seq = %s", ["user.delete", events[1].seq])
    ChainHead.objects.filter(pk=1).update(hash=prev)
    return prev


def test_an_hmac_checkpoint_forged_with_the_web_apps_key_cannot_cover_a_rewrite(
    engineer, django_capture_on_commit_callbacks
):
    from django.conf import settings

    from audits.checkpoints import hmac_checkpoint_signature
    from audits.models import Checkpoint

    events = record_events(3, actor=engineer)
    with django_capture_on_commit_callbacks(execute=True):  # the signer remembers what it signed once it commits
        signed = checkpoint_create()
    assert signed.algorithm == Checkpoint.ED25519
    prev = _rewrite_as_user_delete(events)
    assert not verify_chain().ok  # the Ed25519 checkpoint catches the rewrite...
    created = timezone.now() - dt.timedelta(days=365)
    forged = {
        "seq": events[-1].seq,
        "head_hash": prev,
        "created_at": created,
        "algorithm": Checkpoint.HMAC_SHA256,
        "signature": hmac_checkpoint_signature(
            events[-1].seq, prev, format_timestamp(created), settings.AUDIT_CHECKPOINT_KEY
        ),
    }
    # ...an HMAC checkpoint beside it, under the key the web app holds, changes nothing: the signer's still fails.
    hmac_checkpoint = Checkpoint.objects.create(**forged)
    assert not verify_chain().ok
    # ...so the insider also deletes the Ed25519 checkpoint.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audits_checkpoint DISABLE TRIGGER USER")
        cursor.execute("DELETE FROM audits_checkpoint WHERE id = %s", [signed.pk])
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audits_checkpoint ENABLE ALWAYS TRIGGER audits_checkpoint_no_update_delete")

    # The database now holds no trace the online verification can read (a chain without a checkpoint of the signer
    # is what a trail looks like before its first signature): it passes. The signer keeps what it signed last
    # outside the database, so its next beat refuses and opens a critical finding; witnesses hold the checkpoint.
    assert verify_chain().ok
    from audits.tasks import checkpoint_audit_trail
    from fmgov.findings.models import Finding

    with pytest.raises(SignerRefused, match="rewritten"):
        checkpoint_audit_trail()
    finding = Finding.objects.get(source="audit_trail", dedupe_key="audit-trail:signer-refused")
    assert finding.severity == "critical" and "rewritten" in finding.detail["reason"]
    assert not hmac_checkpoint.anchors.exists()  # the forged checkpoint was not sent to the witnesses either


# --- Defences that hold


def test_a_forged_tail_with_the_right_seq_and_links_is_shown_flagged_where_the_columns_differ(engineer):
    """An insider's tail row whose columns say something else than its bytes is shown as the bytes say, flagged."""
    record_events(1, actor=engineer)
    data = _event_bytes(action="user.superuser_granted")
    forged = _append_raw(data, action="test.harmless")
    event = AuditEvent.objects.get(seq=forged)
    assert event.action == "user.superuser_granted" and event.altered_columns == ("action",)
    result = verify_chain(columns=True)
    assert not result.ok and result.first_bad_seq == forged


@pytest.mark.parametrize(
    ("label", "mangle"),
    [
        ("timestamp not ISO", lambda d: d.replace(b'"timestamp":"', b'"timestamp":"yesterday ', 1)),
        ("timestamp a number", lambda d: d[: d.index(b'"timestamp":')] + b'"timestamp":1700000000}'),
        ("a JSON list", lambda d: b"[" + d + b"]"),
        ("a key missing", lambda d: d.replace(b'"object_repr":"thing",', b"", 1)),
        ("an extra key", lambda d: d.replace(b'{"action"', b'{"aaa":1,"action"', 1)),
        ("not UTF-8", lambda d: d.replace(b'"thing"', b'"th\xffing"', 1)),
        ("a 5000-digit integer", lambda d: d.replace(b'"changes":{}', b'"changes":{"n":' + b"9" * 5000 + b"}", 1)),
    ],
)
def test_bytes_that_are_no_event_show_the_columns_flagged(label, mangle, auditor, client_for):
    """from_db neither crashes nor believes bytes that are no event: the row is flagged ``canonical``."""
    record_events(1)
    forged = _append_raw(mangle(_event_bytes()), action="test.columns")
    event = AuditEvent.objects.get(seq=forged)
    assert event.altered_columns == ("canonical",), label
    assert event.action == "test.columns"
    response = client_for(auditor).get("/api/v1/audit-events/")
    assert response.status_code == 200
    row = next(r for r in response.json()["results"] if r["seq"] == forged)
    assert row["altered_columns"] == ["canonical"]
    assert not verify_chain(columns=True).ok


def test_nul_surrogates_huge_ints_and_floats_from_a_client_show_unaltered_and_verify(engineer):
    """What a hostile API client can put in ``changes`` is stored, shown as recorded, never flagged, and verifies."""
    odd = {
        "nul": [None, "a\x00b"],
        "surrogate": [None, "x\udc80y"],
        "big": [None, 2**200],
        "neg": [None, -(2**70)],
        "float": [None, 3.8e25],
        "negzero": [None, -0.0],
        "tiny": [None, 5e-324],
        "looks_like_an_event": [None, {"prev_hash": "0" * 64, "seq": 1, "timestamp": "2001-01-01T00:00:00+00:00"}],
    }
    with transaction.atomic():
        recorded = audit_record(
            action="test.odd", actor=engineer, object_type="test.thing", object_id="1", object_repr="\x00", changes=odd
        )
    shown = AuditEvent.objects.get(seq=recorded.seq)
    assert shown.altered_columns == ()
    assert shown.changes["big"] == [None, 2**200] and shown.changes["nul"] == [None, "a\\u0000b"]
    assert shown.object_repr == "\\u0000"
    assert verify_chain().ok and verify_chain(columns=True).ok


def test_only_and_defer_keep_what_is_shown_honest(engineer):
    """``.only(...)`` with the bytes fills every hashed field from them; reading without the bytes shows no flag."""
    events = record_events(2, actor=engineer)
    target = events[0].seq
    _tamper("UPDATE audits_auditevent SET action = %s, object_repr = %s WHERE seq = %s", ["x.edited", "edited", target])
    light = AuditEvent.objects.only("seq", "canonical").get(seq=target)
    assert light.action == "test.event" and light.object_repr == events[0].object_repr
    assert light.altered_columns == ()  # deferred columns were never read, so none can differ
    partial = AuditEvent.objects.only("seq", "action", "canonical").get(seq=target)
    assert partial.action == "test.event" and partial.altered_columns == ("action",)
    assert partial.object_repr == events[0].object_repr  # deferred: from the bytes, no query
    assert {name: getattr(partial, name) for name in HASHED_FIELDS if name != "timestamp"} == {
        name: getattr(events[0], name) for name in HASHED_FIELDS if name != "timestamp"
    }


def test_editing_a_link_column_is_never_a_false_ok(engineer):
    """seq, prev_hash and hash columns are what the fast check links: any edit to them is named."""
    events = record_events(4, actor=engineer)
    checkpoint_create()
    target = events[1].seq
    for sql, params in [
        ("UPDATE audits_auditevent SET prev_hash = %s WHERE seq = %s", [events[0].prev_hash, target]),
        ("UPDATE audits_auditevent SET hash = %s WHERE seq = %s", [events[2].hash[::-1], target]),
    ]:
        with transaction.atomic():
            _tamper(sql, params)
            result = verify_chain()
            assert not result.ok and result.first_bad_seq == target, result
            transaction.set_rollback(True)
    assert verify_chain().ok


def test_rewriting_a_signed_event_with_a_rehashed_chain_is_caught(engineer):
    """An insider who rewrites a checkpointed event's bytes and re-hashes the rest cannot match the signed head."""
    events = record_events(3, actor=engineer)
    checkpoint_create()
    _rewrite_as_user_delete(events)
    result = verify_chain()
    assert not result.ok and "checkpoint" in result.reason, result
    assert verify_chain(columns=True).reason == result.reason  # every row is consistent: only the signature tells


def _replay_first_event() -> None:
    _append_raw(bytes(AuditEvent.objects.order_by("seq").first().canonical))


def _duplicate_action_key() -> None:
    data = _event_bytes(action="test.harmless")
    _append_raw(data.replace(b'{"action":"test.harmless",', b'{"action":"test.harmless","action":"user.delete",', 1))


@pytest.mark.parametrize("forge", [_replay_first_event, _duplicate_action_key], ids=["replayed", "duplicate key"])
def test_the_offline_verifier_rejects_tails_the_fast_check_passes(forge, tmp_path):
    """verify_export reads the bytes' seq and prev_hash and re-canonicalises them: the two verdicts disagree today."""
    from audits.export import export_trail
    from audits.tests.test_export import run_verifier

    record_events(2)
    forge()
    path = tmp_path / "trail.jsonl"
    with path.open("wb") as stream:
        export_trail(stream)
    verdict = run_verifier(path)
    assert verdict.returncode != 0 and verdict.stdout.startswith("FAILED: line 4:"), verdict.stdout  # the forged row


def test_bytes_that_are_not_an_event_stop_the_export():
    """The export reads the bytes (hashed_values) and refuses a row that is no event, which verify_chain() passes."""
    from io import BytesIO

    from audits.export import export_trail

    record_events(1)
    forged = _append_raw(b"not json at all")
    with pytest.raises(ValueError, match=f"{forged}|Expecting value"):
        export_trail(BytesIO())


def test_an_hmac_checkpoint_above_the_signers_first_is_refused(engineer):
    """HMAC checkpoints predate the Ed25519 signer; one above its first checkpoint was made with the old key."""
    from django.conf import settings

    from audits.checkpoints import hmac_checkpoint_signature
    from audits.models import Checkpoint

    record_events(2, actor=engineer)
    checkpoint_create()
    events = record_events(2, actor=engineer)
    created = timezone.now()
    Checkpoint.objects.create(
        seq=events[-1].seq,
        head_hash=events[-1].hash,
        created_at=created,
        algorithm=Checkpoint.HMAC_SHA256,
        signature=hmac_checkpoint_signature(
            events[-1].seq, events[-1].hash, format_timestamp(created), settings.AUDIT_CHECKPOINT_KEY
        ),
    )
    result = verify_chain()
    assert not result.ok and result.first_bad_seq == events[-1].seq, result
    assert "an HMAC checkpoint after the Ed25519 signer's first" in result.reason
