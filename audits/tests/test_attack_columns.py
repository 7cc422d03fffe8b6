"""Attacks on the filter columns of the audit trail (issue 14), as an insider with database access would try them.

Pages, the API and reports show what the hashed bytes say; filters and counts still choose events by their columns.
Each attack edits a column on an event after the newest checkpoint (the default verification, which the signer runs
before it signs, names it) and on a signed event (the daily exact check names it and opens a critical finding), and
checks that the reader either follows the bytes or the edit is named. Written as the attacker's review of the
render-from-bytes change; the bytes and checkpoint attacks are in test_attack_bytes.py.
"""

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from audits.models import AuditEvent
from audits.selectors import events_for_objects, verify_chain
from audits.services import audit_record, checkpoint_create
from audits.tests.factories import record_events
from audits.tests.test_attack_bytes import _tamper
from fmgov.portfolio.live_periods import DEPLOYMENT_OBJECT_TYPE, forget_status_events, status_events

pytestmark = pytest.mark.django_db

LATER = timezone.now() + dt.timedelta(days=1)


#: Each column attack twice: on events no checkpoint covers yet, and on events under a signed checkpoint (a fix that
#: checks columns exactly only for the unsigned tail must still keep the signed events' columns honest).
SIGNED = pytest.mark.parametrize("signed", [False, True], ids=["unsigned tail", "signed"])


def _sign_if(signed: bool) -> None:
    if signed:
        checkpoint_create()


def _caught(signed: bool) -> bool:
    """Whether the trail's checks name the edit: the default verification for the unsigned tail (what the signer
    runs before it signs), and for signed events the daily exact check, which opens a critical finding."""
    if not signed:
        return not verify_chain().ok
    from audits.tasks import check_audit_trail_exactly
    from fmgov.findings.models import Finding

    found = check_audit_trail_exactly() is False
    return found and Finding.objects.filter(source="audit_trail", severity="critical", state="open").exists()


def _deployment_status_changes(pk: int) -> list[tuple[str | None, str | None]]:
    forget_status_events()
    return [(old, new) for _, old, new in status_events(LATER).get(pk, [])]


# --- Readers that choose or count events by their columns: what they show follows the bytes, or the edit is named


@SIGNED
def test_an_edited_object_type_column_makes_a_review_event_a_deployment_going_live(signed):
    with transaction.atomic():
        audit_record(
            action="review.status",
            system="tests",
            object_type="reviews.riskreview",
            object_id="424242",
            changes={"status": ["approved", "live"]},
        )
    target = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True)[0]
    assert _deployment_status_changes(424242) == []
    _sign_if(signed)
    _tamper("UPDATE audits_auditevent SET object_type = %s WHERE seq = %s", [DEPLOYMENT_OBJECT_TYPE, target])

    seen = _deployment_status_changes(424242)
    # Either the forged column is caught by the verification reports and the dashboard rely on, or it moves nothing.
    assert seen == [] or not verify_chain().ok, seen


@SIGNED
def test_an_edited_object_type_column_hides_a_deployment_status_change(signed):
    with transaction.atomic():
        audit_record(
            action="deployment.status",
            system="tests",
            object_type=DEPLOYMENT_OBJECT_TYPE,
            object_id="525252",
            changes={"status": ["approved", "live"]},
        )
    target = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True)[0]
    assert _deployment_status_changes(525252) == [("approved", "live")]
    _sign_if(signed)
    _tamper("UPDATE audits_auditevent SET object_type = %s WHERE seq = %s", ["x.hidden", target])

    seen = _deployment_status_changes(525252)
    assert seen == [("approved", "live")] or _caught(signed), seen


@SIGNED
def test_an_edited_changes_column_hides_a_deployment_status_change(signed):
    with transaction.atomic():
        audit_record(
            action="deployment.status",
            system="tests",
            object_type=DEPLOYMENT_OBJECT_TYPE,
            object_id="626262",
            changes={"status": ["live", "retired"]},
        )
    target = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True)[0]
    assert _deployment_status_changes(626262) == [("live", "retired")]
    _sign_if(signed)
    _tamper("UPDATE audits_auditevent SET changes = %s WHERE seq = %s", ['{"note": [null, "x"]}', target])

    seen = _deployment_status_changes(626262)
    assert seen == [("live", "retired")] or _caught(signed), seen


@SIGNED
def test_an_edited_object_id_column_drops_an_event_from_the_objects_history(signed, engineer):
    events = record_events(3, actor=engineer)
    target = events[1]
    pair = (target.object_type, target.object_id)
    assert target.seq in set(events_for_objects([pair]).values_list("seq", flat=True))
    _sign_if(signed)
    _tamper("UPDATE audits_auditevent SET object_id = %s WHERE seq = %s", ["999999", target.seq])

    found = set(events_for_objects([pair]).values_list("seq", flat=True))
    assert target.seq in found or _caught(signed)


@SIGNED
def test_api_filter_by_object_hides_an_edited_event(signed, engineer, auditor, client_for):
    events = record_events(3, actor=engineer)
    target = events[1]
    _sign_if(signed)
    _tamper("UPDATE audits_auditevent SET object_id = %s WHERE seq = %s", ["999999", target.seq])
    client = client_for(auditor)
    rows = client.get(
        "/api/v1/audit-events/", {"object_type": target.object_type, "object_id": target.object_id}
    ).json()
    verified = client.get("/api/v1/audit-events/verify/").json()
    assert target.seq in {r["seq"] for r in rows["results"]} or not verified["ok"] or _caught(signed), verified


@SIGNED
def test_the_period_summary_counts_an_edited_action_column(signed, engineer, auditor):
    from reports.models import Report
    from reports.selectors.period import period_evidence

    events = record_events(3, actor=engineer, action="test.event")
    _sign_if(signed)
    _tamper("UPDATE audits_auditevent SET action = %s WHERE seq = %s", ["deployment.status", events[1].seq])
    today = timezone.now().astimezone(dt.UTC).date()
    report = Report.objects.create(
        kind="period_summary", period_start=today - dt.timedelta(days=1), period_end=today + dt.timedelta(days=1),
        requested_by=auditor,
    )  # fmt: skip
    evidence = period_evidence(report)
    per_action = dict(evidence["activity"]["per_action"])
    shown = [row["action"] for row in evidence["deployment_status_changes"]]
    honest = "deployment.status" not in per_action and shown == []
    assert honest or not evidence["audit_trail"]["verification"]["ok"], (per_action, shown)


def test_report_event_rows_mark_an_edited_column(engineer):
    from reports.selectors.common import event_row

    events = record_events(2, actor=engineer)
    _tamper("UPDATE audits_auditevent SET action = %s WHERE seq = %s", ["something.else", events[0].seq])
    event = AuditEvent.objects.get(seq=events[0].seq)
    assert event.altered_columns == ("action",)  # the model knows
    row = event_row(event)
    assert any("altered" in key for key in row), row
