"""Time buckets for report charts: whole hours and local days over a period, and counting
(moment, severity) pairs into them. What to count is the room's; how to bucket it is here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from vigil.core.clock import to_local
from vigil.core.severity import Severity

SeverityCounts = dict[Severity, int]


def hour_starts(start: datetime, end: datetime) -> list[datetime]:
    """Whole hours overlapping [start, end); UTC and the province (UTC+7) share hour boundaries."""
    first = start.replace(minute=0, second=0, microsecond=0)
    hours = []
    current = first
    while current < end:
        hours.append(current)
        current += timedelta(hours=1)
    return hours


def per_hour(
    events: Iterable[tuple[datetime, Severity]], hours: Sequence[datetime]
) -> dict[datetime, SeverityCounts]:
    """Bucket (moment, severity) pairs into the given hour starts; moments outside are ignored."""
    known = set(hours)
    out: dict[datetime, SeverityCounts] = {h: {} for h in hours}
    for moment, severity in events:
        bucket = moment.replace(minute=0, second=0, microsecond=0)
        if bucket in known:
            out[bucket][severity] = out[bucket].get(severity, 0) + 1
    return out


def per_day(
    events: Iterable[tuple[datetime, Severity]], days: Sequence[date]
) -> dict[date, SeverityCounts]:
    """Bucket (moment, severity) pairs into local days."""
    known = set(days)
    out: dict[date, SeverityCounts] = {d: {} for d in days}
    for moment, severity in events:
        day = to_local(moment).date()
        if day in known:
            out[day][severity] = out[day].get(severity, 0) + 1
    return out


def local_days(start: datetime, end: datetime) -> list[date]:
    """Local calendar days overlapping [start, end)."""
    first, last = to_local(start).date(), to_local(end - timedelta(microseconds=1)).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
