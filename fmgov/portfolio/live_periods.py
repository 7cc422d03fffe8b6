"""When each deployment was live, rebuilt from the deployment status events of the audit trail.

A footprint over a past period must count what ran then, including a
deployment retired or suspended since; the ``status`` column only says what
runs now. Every status change of a deployment is an audit event whose
``changes`` holds ``{"status": [old, new]}``, so the live intervals follow
from the trail, which is read once per process and then only by its new tail (``_StatusMemo``).

Rows the trail does not explain (a deployment created before status events
were recorded, or a status set outside the services) are reconciled with the
row itself: a deployment live now whose last recorded status is not ``live``
is counted from ``went_live_at`` (from the beginning of time when unknown);
where the trail says live, it is believed.
"""

import datetime as dt
import json
import threading
from collections import defaultdict

from django.db.models import Q
from django.utils import timezone

from audits.models import AuditEvent, ChainHead
from fmgov.registry.choices import DeploymentStatus

__all__ = [
    "Interval",
    "period_bounds",
    "status_events",
    "forget_status_events",
    "ever_live_ids",
    "live_intervals",
    "days_live",
]

DEPLOYMENT_OBJECT_TYPE = "registry.deployment"

# (start, end); None = unbounded on that side (live before the trail knows, or still live).
Interval = tuple[dt.datetime | None, dt.datetime | None]


def period_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The period as [start 00:00, the day after end 00:00) in the site's time zone."""
    tz = timezone.get_current_timezone()
    begin = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    finish = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return begin, finish


StatusChange = tuple[dt.datetime, str | None, str | None]  # (time, old status, new status)


_STATUS_FILTER = {"object_type": DEPLOYMENT_OBJECT_TYPE, "changes__has_key": "status"}

# Per deployment: (the change list read, its length then, its intervals). The memo's lists only grow, so
# the same list object at the same length has the same intervals: a request over a trail that did not
# move recomputes nothing (a deployment with hundreds of status changes cost a scan on every request).
_interval_cache: dict[int, tuple[list[StatusChange], int, tuple[list[Interval], str]]] = {}


class _StatusMemo:
    """Every deployment status change of the trail, read once per process and then only its new tail.

    The dashboard asked the whole trail for status events on every request (6 s at a tenth of a large
    registry). The trail is append-only and hash-chained, so what was read up to sequence ``seq`` stays
    true as long as the event at ``seq`` still has the hash read then: the next read checks that hash and
    takes only the events after ``seq`` up to the chain head. A different database or a rolled-back
    tail fails the check and the memo is rebuilt. Appends are serialised by the chain head lock, held
    to commit, so every event at or below a committed head is visible.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.forget()

    def forget(self) -> None:
        self.seq, self.hash = 0, ""
        _interval_cache.clear()
        self.changes: list[tuple[int, StatusChange]] = []  # (deployment id, change), in trail order
        # The same changes by deployment, and the latest time among them: a period ending after it
        # takes every list as it is instead of filtering each change again on every request.
        self.by_deployment: dict[int, list[StatusChange]] = defaultdict(list)
        self.latest: dt.datetime | None = None

    def _take(self, rows) -> None:
        """Status changes from the events' hashed bytes, not their columns (which only served to find them)."""
        for (data,) in rows:
            try:
                recorded = json.loads(bytes(data))
                if recorded["object_type"] != DEPLOYMENT_OBJECT_TYPE:
                    continue  # found through an edited object_type column: not a deployment's event
                object_id, changes = str(recorded["object_id"]), recorded["changes"]
                timestamp = dt.datetime.fromisoformat(recorded["timestamp"])
            except (ValueError, KeyError, TypeError, RecursionError):
                continue  # bytes that are no event: verification names them; nothing here can be believed
            pair = changes.get("status") if isinstance(changes, dict) else None
            if object_id.isdigit() and isinstance(pair, list) and len(pair) == 2:
                change = (timestamp, pair[0], pair[1])
                self.changes.append((int(object_id), change))
                self.by_deployment[int(object_id)].append(change)
                self.latest = timestamp if self.latest is None else max(self.latest, timestamp)

    def refresh(self) -> list[tuple[int, StatusChange]]:
        """The changes up to the committed chain head; two queries (the head, the checked tail, maybe empty).

        Always two, whether or not the trail moved, so that a page's query count is the same every time.
        """
        with self.lock:
            head = ChainHead.objects.filter(pk=1).values_list("seq", "hash").first() or (0, "")
            columns = ("seq", "hash", "canonical")
            if self.seq and head[0] >= self.seq:
                # One range scan of the primary key from the last event read to the head: the checked
                # event and the tail's status events. (An OR with an IN-subquery was planned as a filter
                # over the whole trail: 1.2 s at a million events.)
                rows = list(
                    AuditEvent.objects.filter(seq__gte=self.seq, seq__lte=head[0])
                    .filter(Q(seq=self.seq) | Q(**_STATUS_FILTER))
                    .order_by("seq")
                    .values_list(*columns)
                )
                if rows and rows[0][:2] == (self.seq, self.hash):
                    self._take(row[2:] for row in rows[1:])
                    self.seq, self.hash = head
                    return self.changes
            self.forget()  # first read, another database, or the tail read before is gone
            rows = AuditEvent.objects.filter(seq__lte=head[0], **_STATUS_FILTER).order_by("seq").values_list(*columns)
            self._take(row[2:] for row in rows)
            self.seq, self.hash = head
            return self.changes


_memo = _StatusMemo()


def forget_status_events() -> None:
    """Drop the memo (tests that count queries from a known start)."""
    with _memo.lock:
        _memo.forget()


def status_events(until: dt.datetime) -> dict[int, list[StatusChange]]:
    """Each deployment's recorded status changes before ``until``, oldest first (see ``_StatusMemo``)."""
    events: dict[int, list[StatusChange]] = defaultdict(list)
    _memo.refresh()
    with _memo.lock:
        if _memo.latest is not None and _memo.latest < until:  # the usual case: a period ending now or later
            events.update(_memo.by_deployment)  # the memo's own lists: read them, never change them
            return events
        for pk, change in _memo.changes:
            if change[0] < until:
                events[pk].append(change)
    return events


def ever_live_ids(events: dict[int, list[StatusChange]]) -> set[int]:
    """Deployments the trail shows live at some time (the others can only be live now, unrecorded)."""
    live = DeploymentStatus.LIVE
    return {pk for pk, changes in events.items() if any(live in (old, new) for _, old, new in changes)}


def _intervals_from_events(changes: list[StatusChange]) -> tuple[list[Interval], str]:
    """Live intervals from ordered status changes, and the last recorded status."""
    intervals: list[Interval] = []
    opened: dt.datetime | None = None
    is_live = False
    last = ""
    for timestamp, old, new in changes:
        if new == DeploymentStatus.LIVE and not is_live:
            opened, is_live = timestamp, True
        elif new != DeploymentStatus.LIVE and is_live:
            intervals.append((opened, timestamp))
            is_live = False
        elif old == DeploymentStatus.LIVE and not intervals and not is_live:
            # Left live before the trail saw it go live: live from the beginning until now.
            intervals.append((None, timestamp))
        last = new or ""
    if is_live:
        intervals.append((opened, None))
    return intervals, last


def _intervals_of(pk: int, changes: list[StatusChange]) -> tuple[list[Interval], str]:
    cached = _interval_cache.get(pk)
    if cached is not None and cached[0] is changes and cached[1] == len(changes):
        intervals, last = cached[2]
    else:
        intervals, last = _intervals_from_events(changes)
        if changes:
            _interval_cache[pk] = (changes, len(changes), (intervals, last))
    return list(intervals), last  # a copy: the caller may add the row's own interval


def live_intervals(
    *, rows: dict[int, tuple[str, dt.datetime | None]], events: dict[int, list[StatusChange]], until: dt.datetime
) -> dict[int, list[Interval]]:
    """Live intervals of each deployment in ``rows`` ({id: (status now, went_live_at)}) before ``until``.

    ``events`` is ``status_events(until)``: the trail as of the period's end, so a later change cannot
    alter a past period; the row fills in only what the trail never recorded (see the module docstring).
    """
    result: dict[int, list[Interval]] = {}
    for pk, (status, went_live_at) in rows.items():
        intervals, last = _intervals_of(pk, events.get(pk, []))
        if status == DeploymentStatus.LIVE and last != DeploymentStatus.LIVE and not intervals:
            if went_live_at is None:
                intervals.append((None, None))
            elif went_live_at < until:
                intervals.append((went_live_at, None))
        if intervals:
            result[pk] = intervals
    return result


def days_live(intervals: list[Interval], begin: dt.datetime, end: dt.datetime) -> float:
    """Days (fractional, 86,400 s each) the intervals overlap [begin, end)."""
    seconds = 0.0
    for start, finish in intervals:
        low = begin if start is None else max(begin, start)
        high = end if finish is None else min(end, finish)
        seconds += max(0.0, (high - low).total_seconds())
    return round(seconds / 86400, 6)
