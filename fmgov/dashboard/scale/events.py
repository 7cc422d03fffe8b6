"""The audit trail's seeded events: chained from the current head, byte for byte as ``audit_record`` writes them."""

import datetime as dt
import hashlib
import json
from collections.abc import Iterator

from django.db import transaction
from django.utils import timezone

from audits.canonical import canonical_bytes, canonical_json, format_timestamp, stored_form
from audits.models import AuditEvent
from audits.services import lock_chain_head
from fmgov.dashboard.scale.tables import _fewer_rows_than, _indexes_rebuilt, _Table

ACTIONS = ("deployment.update", "review.submit", "signoff.create", "evaluation.run.finish", "adaptation.update")

_EVENT_VARYING = ("seq", "timestamp", "action", "object_type", "object_id", "object_repr", "changes", "context")
_EVENT_VARYING += ("prev_hash", "hash", "canonical")


def _canonical_template(actor) -> str:
    """The canonical JSON of a seeded event with ``{0}``..``{8}`` where its varying values go (as JSON).

    Taken from ``canonical_json`` itself, so key order, separators and the
    actor's escaping are the trail's; ``_events`` checks whole events against
    ``canonical_bytes`` as it goes.
    """
    probe = {name: f"@@{k}@@" for k, name in enumerate(_EVENT_VARYING[:9])}
    probe.update(actor_id=actor.pk, actor_username=actor.username, actor_system="")
    template = canonical_json(probe).replace("{", "{{").replace("}", "}}")
    for k in range(9):
        template = template.replace(f'"@@{k}@@"', f"{{{k}}}")
    return template


def _events(count: int, objects: list[tuple[str, int]], actor) -> None:
    """``count`` events chained from the current head, byte for byte as ``audit_record`` writes them, in one COPY.

    The canonical bytes come from a template (a few microseconds an event
    instead of a dict, a JSON encoding and ``stored_form`` each); every
    10,000th event is also encoded by ``canonical_bytes`` and must be equal.
    """
    template = _canonical_template(actor)
    table = _Table(AuditEvent, _EVENT_VARYING, actor_id=actor.pk, actor_username=stored_form(actor.username))
    described = [(t, str(i), f"{t} {i}") for t, i in objects]
    quoted = [tuple(canonical_json(v) for v in obj) for obj in described]
    actions = [(a, canonical_json(a)) for a in ACTIONS]
    moved = canonical_json({"status": ["approved", "live"]})
    with transaction.atomic():
        head = lock_chain_head()
        first, prev = head.seq + 1, head.hash
        moment = timezone.now() - dt.timedelta(seconds=count)

        def rows() -> Iterator[tuple]:
            nonlocal prev
            for i, (stamp, text) in enumerate(_seconds_apart(moment, count)):
                seq = first + i
                action, action_json = actions[i % len(actions)]
                k = i % len(objects)
                changes = moved if i % 2 else f'{{"summary":[null,"note {i}"]}}'
                context = f'{{"request_id":"seed-{i}"}}'
                data = template.format(
                    seq, f'"{text}"', action_json, *quoted[k], changes, context, f'"{prev}"'
                ).encode()
                if i % 10_000 == 0:
                    _check_event(data, seq, stamp, actor, described[k], action, changes, context, prev)
                digest = hashlib.sha256(prev.encode("ascii") + data).hexdigest()
                yield (seq, stamp, action, *described[k], changes, context, prev, digest, data)
                prev = digest

        with _indexes_rebuilt([AuditEvent], when=_fewer_rows_than(AuditEvent, count)):
            table.load(rows())
        head.seq, head.hash = first + count - 1, prev
        head.save(update_fields=["seq", "hash"])


def _seconds_apart(start: dt.datetime, count: int) -> Iterator[tuple[dt.datetime, str]]:
    """``count`` times a second apart from ``start``, each with its ``format_timestamp`` text.

    The text is put together from the day's and the second's (an aware
    datetime's ``isoformat`` was a third of an event's cost); ``_check_event``
    compares it with ``format_timestamp`` every 10,000th event.
    """
    stamp = start.astimezone(dt.UTC)
    midnight = stamp.replace(hour=0, minute=0, second=0, microsecond=0)
    clock = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]
    fraction = f".{stamp.microsecond:06d}+00:00"
    offset = stamp.hour * 3600 + stamp.minute * 60 + stamp.second
    second, days = dt.timedelta(seconds=1), {}
    for i in range(count):
        day, moment = divmod(offset + i, 86_400)
        if day not in days:
            days[day] = (midnight + dt.timedelta(days=day)).date().isoformat()
        yield stamp, f"{days[day]}T{clock[moment]}{fraction}"
        stamp += second


def _check_event(data: bytes, seq: int, stamp, actor, obj: tuple, action: str, changes: str, context: str, prev: str):
    """Refuse to go on if the template's bytes are not what ``audit_record`` would have hashed."""
    values = {
        "seq": seq,
        "timestamp": format_timestamp(stamp),  # the template's text came from _seconds_apart
        "actor_id": actor.pk,
        "actor_username": actor.username,
        "actor_system": "",
        "action": action,
        "object_type": obj[0],
        "object_id": obj[1],
        "object_repr": obj[2],
        "changes": json.loads(changes),
        "context": json.loads(context),
        "prev_hash": prev,
    }
    if data != canonical_bytes(values):
        raise RuntimeError(f"seed_scale: event {seq}'s template bytes differ from canonical_bytes")
