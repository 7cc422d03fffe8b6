"""Hash what is stored, byte for byte (issue 14): any JSON value appends and verifies, on SQLite and PostgreSQL.

Run these with DATABASE_URL=postgres://... as well: PostgreSQL's jsonb respells
numbers (``3.8e+25`` comes back as ``38000000000000000000000000``) and refuses
``\\u0000``, which SQLite hides.
"""

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from hypothesis import example, given
from hypothesis import strategies as st

from audits.canonical import canonical_bytes, same_json, stored_form
from audits.models import AuditEvent
from audits.selectors import verify_chain
from audits.services import audit_record
from audits.tests.test_chain import _tamper

pytestmark = pytest.mark.django_db

# Floats across the whole range (subnormals, -0.0, 1e308), integers well past 2**64, any text incl. NUL.
SCALARS = (
    st.none()
    | st.booleans()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.integers(min_value=-(2**200), max_value=2**200)
    | st.text(alphabet=st.characters(codec="utf-8") | st.just("\x00"), max_size=12)
)
KEYS = st.text(alphabet=st.characters(codec="utf-8") | st.just("\x00"), max_size=8)
JSON = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4), max_leaves=30
)


def nest(value, depth: int):
    """``value`` at the bottom of ``depth`` levels of alternating lists and objects."""
    for level in range(depth):
        value = [value] if level % 2 else {"k\x00": value}
    return value


NESTED = st.tuples(JSON, st.integers(min_value=0, max_value=32)).map(lambda pair: nest(*pair))
EDGES = [3.8e25, -0.0, 1e16, 1.7976931348623157e308, 5e-324, -(2**64) - 1, 2**64 + 1, "a\x00b", {"\x00": [True, 1]}]


def _append(old, new) -> AuditEvent:
    with transaction.atomic():
        return audit_record(
            action="test.json",
            system="tests",
            object_type="test.thing",
            object_repr="nul \x00 in a name",
            changes={"value": [old, new]},
            context={"note": new},
        )


@given(old=NESTED, new=NESTED)
@example(old=EDGES, new=nest(EDGES, 32))
@example(old=-0.0, new=3.8e25)
def test_any_json_value_appends_and_verifies(old, new):
    event = _append(old, new)
    result = verify_chain()
    assert result.ok, result
    stored = AuditEvent.objects.get(seq=event.seq)
    # The bytes say exactly what was recorded; the columns say the same in the form the database keeps.
    assert stored.hashed_values()["changes"] == {"value": [old, new]}
    assert bytes(stored.canonical) == canonical_bytes(stored.hashed_values())
    assert same_json(stored.changes, stored_form({"value": [old, new]}))


def test_the_3_8e25_compute_reproduction_verifies(engineer):
    """The issue's report: a frontier model's training compute broke verification on PostgreSQL."""
    from fmgov.registry.tests.factories import FoundationModelFactory

    model = FoundationModelFactory(owner=engineer, name="frontier", training_compute_flop=3.8e25)
    event = AuditEvent.objects.get(action="foundation_model.create", object_id=str(model.pk))
    stored = event.changes["training_compute_flop"][1]
    if connection.vendor == "postgresql":
        assert stored == 38000000000000000000000000 and isinstance(stored, int), "jsonb no longer respells it?"
    assert event.hashed_values()["changes"]["training_compute_flop"][1] == 3.8e25
    assert verify_chain().ok
    call_command("verify_audit_trail")


def test_a_value_jsonb_respells_is_still_checked():
    """The column of a respelled number is compared by value: editing it is caught, not waved through."""
    event = _append(None, {"flop": 3.8e25, "flag": True})
    _append(1, 2)
    assert verify_chain().ok
    forged = '{"value": [null, {"flop": 3.9e25, "flag": true}]}'
    _tamper("UPDATE audits_auditevent SET changes = %s WHERE seq = %s", [forged, event.seq])
    result = verify_chain(columns=True)
    assert not result.ok and result.first_bad_seq == event.seq and "changes column" in result.reason
    shown = AuditEvent.objects.get(seq=event.seq)
    assert shown.altered_columns == ("changes",) and shown.changes["value"][1]["flop"] == 3.8e25


def test_true_in_the_column_cannot_become_1():
    event = _append(None, True)
    _tamper("UPDATE audits_auditevent SET changes = %s WHERE seq = %s", ['{"value": [null, 1]}', event.seq])
    result = verify_chain(columns=True)
    assert not result.ok and result.first_bad_seq == event.seq
    shown = AuditEvent.objects.get(seq=event.seq)
    assert shown.altered_columns == ("changes",) and shown.changes["value"][1] is True


def test_editing_the_stored_bytes_is_a_hash_mismatch():
    events = [_append(i, i + 1) for i in range(3)]
    forged = bytes(events[1].canonical).replace(b'"value":[1,2]', b'"value":[1,3]')
    assert forged != bytes(events[1].canonical)
    _tamper("UPDATE audits_auditevent SET canonical = %s WHERE seq = %s", [forged, events[1].seq])
    result = verify_chain()
    assert not result.ok and result.first_bad_seq == events[1].seq and "hash mismatch" in result.reason


def test_every_real_model_card_imports_and_the_chain_stays_green(engineer):
    from fmgov.registry.services import model_card_import
    from tests.data import REALWORLD_DIR

    cards = sorted((REALWORLD_DIR / "model-cards").glob("*.md"))
    assert len(cards) >= 10
    for path in cards:
        card = path.read_bytes().decode("utf-8")
        model_card_import(actor=engineer, card=card, hf_repo_id=path.stem.replace("__", "/", 1))
    assert AuditEvent.objects.filter(action__endswith=".create").count() >= len(cards)
    result = verify_chain()
    assert result.ok, result
