"""One ``changes`` shape: audit_record refuses anything but {field: [old, new]}; readers still show old events."""

import pytest
from django.db import transaction

from audits.changes import ABSENT, InvalidChanges, change_pairs, changed, created, deleted, diff
from audits.models import AuditEvent
from audits.services import audit_record
from audits.views import change_rows
from reports.rendering.document import _changes as report_changes

pytestmark = pytest.mark.django_db

REFUSED = [
    {"before": {"license": "mit"}, "after": {"license": "apache-2.0"}},
    {"after": {"name": "x"}},
    {"reason": "replaced"},
    {"state": ["a", "b", "c"]},
    {"state": "a"},
    {"": [1, 2]},
    {1: [1, 2]},
    ["state", "a", "b"],
    "state",
]


@pytest.mark.parametrize("changes", REFUSED, ids=range(len(REFUSED)))
def test_audit_record_refuses_any_other_shape(changes):
    with pytest.raises(InvalidChanges), transaction.atomic():
        audit_record(action="x.do", system="tests", object_type="t", changes=changes)
    assert not AuditEvent.objects.filter(action="x.do").exists()


def test_audit_record_accepts_pairs_and_nothing():
    with transaction.atomic():
        audit_record(action="x.do", system="tests", object_type="t", changes={"state": ("a", "b")})
        audit_record(action="x.do", system="tests", object_type="t")
    assert [e.changes for e in AuditEvent.objects.filter(action="x.do").order_by("seq")] == [{"state": ["a", "b"]}, {}]


def test_helpers_build_pairs():
    assert created({"name": "x", "owner": 3}) == {"name": [None, "x"], "owner": [None, 3]}
    assert deleted({"name": "x"}) == {"name": ["x", None]}
    assert diff({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": 4}) == {"b": [2, 3], "c": [None, 4]}
    assert changed(state=("draft", "submitted")) == {"state": ["draft", "submitted"]}
    with pytest.raises(InvalidChanges):
        changed(state="submitted")


def test_readers_handle_both_old_shapes_and_the_new_one():
    legacy = {"before": {"license": "mit"}, "after": {"license": "apache-2.0", "name": "x"}, "reason": "why"}
    assert change_pairs(legacy) == [
        ("license", "mit", "apache-2.0"),
        ("name", ABSENT, "x"),
        ("reason", ABSENT, "why"),
    ]
    assert change_pairs({"after": {"name": "x"}}) == [("name", ABSENT, "x")]
    assert change_pairs({"before": {"name": "x"}}) == [("name", "x", ABSENT)]
    assert change_pairs({"sha256": "ab"}) == [("sha256", ABSENT, "ab")]
    assert change_rows(legacy)[0] == {"field": "license", "before": "mit", "after": "apache-2.0"}
    assert change_rows({"name": [None, "x"]}) == [{"field": "name", "before": "—", "after": "x"}]
    assert report_changes(legacy) == "license: mit → apache-2.0; name: x; reason: why"
    assert report_changes({"state": ["draft", "submitted"]}) == "state: draft → submitted"
