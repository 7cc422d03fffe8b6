"""When each deployment was live, rebuilt from the deployment status events of the audit trail.

A footprint over a past period must count what ran then, including a
deployment retired or suspended since; the ``status`` column only says what
runs now. Every status change of a deployment is an audit event whose
``changes`` holds ``{"status": [old, new]}``, so the live intervals follow
from the trail in one query.

Rows the trail does not explain (a deployment created before status events
were recorded, or a status set outside the services) are reconciled with the
row itself: a deployment live now whose last recorded status is not ``live``
is counted from ``went_live_at`` (from the beginning of time when unknown);
where the trail says live, it is believed.
"""

import datetime as dt
from collections import defaultdict

from django.utils import timezone

from audits.models import AuditEvent
from fmgov.registry.choices import DeploymentStatus

__all__ = ["Interval", "period_bounds", "status_events", "ever_live_ids", "live_intervals", "days_live"]

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


def status_events(until: dt.datetime) -> dict[int, list[StatusChange]]:
    """Each deployment's recorded status changes up to ``until``, oldest first. One query."""
    events: dict[int, list[StatusChange]] = defaultdict(list)
    rows = (
        AuditEvent.objects.filter(object_type=DEPLOYMENT_OBJECT_TYPE, timestamp__lt=until, changes__has_key="status")
        .order_by("seq")
        .values_list("object_id", "timestamp", "changes")
    )
    for object_id, timestamp, changes in rows:
        pair = changes.get("status") if isinstance(changes, dict) else None
        if not object_id.isdigit() or not isinstance(pair, list) or len(pair) != 2:
            continue
        events[int(object_id)].append((timestamp, pair[0], pair[1]))
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


def live_intervals(
    *, rows: dict[int, tuple[str, dt.datetime | None]], events: dict[int, list[StatusChange]], until: dt.datetime
) -> dict[int, list[Interval]]:
    """Live intervals of each deployment in ``rows`` ({id: (status now, went_live_at)}) before ``until``.

    ``events`` is ``status_events(until)``: the trail as of the period's end, so a later change cannot
    alter a past period; the row fills in only what the trail never recorded (see the module docstring).
    """
    result: dict[int, list[Interval]] = {}
    for pk, (status, went_live_at) in rows.items():
        intervals, last = _intervals_from_events(events.get(pk, []))
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
