from django.db import transaction

from audits.services import audit_record


def record_events(count: int, *, actor=None, action: str = "test.event", object_type: str = "test.thing") -> list:
    """Append ``count`` events, each in its own transaction like real services do."""
    events = []
    for i in range(count):
        with transaction.atomic():
            events.append(
                audit_record(
                    action=action,
                    actor=actor,
                    system="tests",
                    object_type=object_type,
                    object_id=i,
                    object_repr=f"thing {i} — ünïcode ✓",
                    changes={
                        "value": [i, i + 1],
                        "ratio": [None, 0.1 * i],
                        "nested": [None, {"b": 1, "a": [None, True]}],
                    },
                )
            )
    return events
