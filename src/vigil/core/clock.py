"""Time in Vigil: naive UTC everywhere inside, the province's zone only when shown."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

from vigil.core.errors import ValidationError

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


# --- times typed by people (CLI options, form fields, query strings) ----------------------------
#: What a person is shown when a time cannot be read.
TIME_EXAMPLE = "2026-03-14 07:00"
DAY_EXAMPLE = "2026-03-14"


def parse_local_time(text: str, field: str = "time") -> datetime:
    """A time a person typed, as naive UTC.

    '2026-03-14 07:00' (or '2026-03-14T07:00', or a date alone for its midnight) is read in the
    province's time, since that is the clock on the officer's wall; an ISO 8601 time with an
    offset ('2026-03-14T00:00Z', '...+07:00') means what it says. Every command, page and API
    that takes a time from a person reads it here, so that the same text means the same instant
    everywhere.
    """
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as e:
        raise ValidationError(
            "%(field)s: not a date and time: %(text)r (use %(example)s)",
            params={"field": field, "text": text, "example": TIME_EXAMPLE},
        ) from e
    return to_utc(value if value.tzinfo else value.replace(tzinfo=PROVINCE_TZ))


def parse_optional_time(text: str | None, field: str = "time") -> datetime | None:
    """As `parse_local_time`; None or blank text (an empty form field) means no time."""
    if text is None or not text.strip():
        return None
    return parse_local_time(text, field)


def parse_local_day(text: str, field: str = "date") -> date:
    """A calendar day a person typed ('2026-03-14'), in the province's calendar."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError as e:
        raise ValidationError(
            "%(field)s: not a date: %(text)r (use %(example)s)",
            params={"field": field, "text": text, "example": DAY_EXAMPLE},
        ) from e


def local_day(value: datetime) -> date:
    """The province's calendar day of a naive UTC time."""
    return to_local(value).date()


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar day, as naive UTC (the province's midnight to midnight)."""
    start = to_utc(datetime.combine(day, time(0), tzinfo=PROVINCE_TZ))
    return start, start + timedelta(days=1)
