"""Time in Vigil: naive UTC everywhere inside, the province's zone only when shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

#: Vietnam's zone has had no daylight saving since 1975; a fixed offset is exact.
PROVINCE_TZ = timezone(timedelta(hours=7), "ICT")


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def to_utc(value: datetime) -> datetime:
    """Naive values are taken as UTC already; aware ones are converted."""
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def to_local(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC).astimezone(PROVINCE_TZ)


def format_local(value: datetime | None) -> str:
    if value is None:
        return ""
    return to_local(value).strftime("%Y-%m-%d %H:%M")
