"""The shift handover report: what the outgoing duty officer passes to the incoming one."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.cases import charts
from vigil.cases.duty import current_shift
from vigil.cases.handover import Handover, build_handover
from vigil.cases.reports.figures import alert_moments
from vigil.cases.reports.lines import alert_line, case_line
from vigil.core.access import Actor
from vigil.core.clock import PROVINCE_TZ, to_local, to_utc
from vigil.core.errors import ValidationError
from vigil.core.i18n import _
from vigil.core.severity import Severity
from vigil.deployment import Deployment
from vigil.reports.figures import hour_starts, local_days, per_day, per_hour
from vigil.reports.lines import phase_name, unit_name
from vigil.reports.render import Report, check_lang, render_html
from vigil.store.models import User

TEMPLATES = Path(__file__).parent / "templates"
TITLE = "Shift handover report"
#: Local start hours of the standard three shifts (07-15, 15-23, 23-07).
SHIFT_STARTS = (7, 15, 23)
SHIFT_LENGTH = timedelta(hours=8)
#: Longer periods are refused: a handover covers a shift, not a month.
MAX_PERIOD = timedelta(days=7)
#: Rows per alert table; the totals and the alert queue tell the rest.
TABLE_ROWS = 50
#: Up to this long the chart has a column per hour, beyond it one per day.
HOURLY_UP_TO = timedelta(hours=48)


def standard_shift(now: datetime) -> tuple[datetime, datetime]:
    """The standard shift (07-15, 15-23 or 23-07 local) in progress at `now`, as naive UTC."""
    local = to_local(to_utc(now))
    starts = [
        datetime.combine(local.date() + timedelta(days=back), time(hour), tzinfo=PROVINCE_TZ)
        for back in (-1, 0)
        for hour in SHIFT_STARTS
    ]
    start = max(s for s in starts if s <= local)
    return to_utc(start), to_utc(start + SHIFT_LENGTH)


def duty_unit(dep: Deployment, actor: Actor) -> str:
    """The duty room an actor reports for: its own unit, or the province for system actors."""
    return actor.unit if actor.unit in dep.units else dep.units.root.code


def shift_period(
    dep: Deployment, actor: Actor, start: datetime | None = None, end: datetime | None = None
) -> tuple[datetime, datetime]:
    """The period of a handover: as given; one side given means 8 hours from or to it; none
    given means the shift in progress on the roster, else the standard shift in progress."""
    if start is not None and end is not None:
        return to_utc(start), to_utc(end)
    if start is not None:
        return to_utc(start), to_utc(start) + SHIFT_LENGTH
    if end is not None:
        return to_utc(end) - SHIFT_LENGTH, to_utc(end)
    now = dep.now()
    with dep.store.reader() as session:
        shift = current_shift(session, duty_unit(dep, actor), now)
        if shift is not None:
            return shift.starts, shift.ends
    return standard_shift(now)


def _full_names(session: Session, usernames: set[str]) -> dict[str, str]:
    rows = session.execute(
        select(User.username, User.full_name).where(User.username.in_(sorted(usernames)))
    )
    return {username: full or username for username, full in rows}


def _officer(names: dict[str, str], username: str | None) -> str | None:
    if username is None:
        return None
    full = names.get(username, username)
    return full if full == username else f"{full} ({username})"


def handover_report(
    dep: Deployment, actor: Actor, start: datetime, end: datetime, lang: str
) -> Report:
    """Render the handover of [start, end) as `actor` sees it (their units only)."""
    check_lang(lang)
    start, end = to_utc(start), to_utc(end)
    if end <= start:
        raise ValidationError("the handover period must end after it starts")
    if end - start > MAX_PERIOD:
        raise ValidationError(f"a handover covers at most {MAX_PERIOD.days} days")
    now = dep.now()
    policy = dep.policy(start)
    with dep.store.reader() as session:
        h = build_handover(session, actor, policy, start, end, now)
        moments = alert_moments(session, actor, h.threshold, start, end)
        people = {
            h.outgoing,
            *(n.author for n in h.notes),
            *(c.owner for c in h.open_cases if c.owner),
        }
        if h.incoming:
            people.add(h.incoming)
        names = _full_names(session, people)
        context = _context(dep, h, moments, names, lang)
    title = _(TITLE, lang)
    html = render_html("handover.html", {**context, "title": title}, lang, extra_dirs=[TEMPLATES])
    return Report("handover", title, lang, start, end, html)


def _context(
    dep: Deployment,
    h: Handover,
    moments: list[tuple[datetime, Severity]],
    names: dict[str, str],
    lang: str,
) -> dict[str, object]:
    units = dep.units
    # No chart when nothing came in: the section says so in words.
    chart, caption = None, ""
    if moments and h.shift_end - h.shift_start <= HOURLY_UP_TO:
        hours = hour_starts(h.shift_start, h.shift_end)
        chart = charts.alerts_by_hour(hours, per_hour(moments, hours), lang)
        caption = _("Alerts that came in, per hour (local time), by severity", lang)
    elif moments:
        days = local_days(h.shift_start, h.shift_end)
        chart = charts.alerts_over_time(days, per_day(moments, days), lang)
        caption = _("Alerts that came in, per day, by severity", lang)
    open_cases = [
        replace(line, owner=_officer(names, line.owner))
        for line in (case_line(c, units, lang, h.generated_at) for c in h.open_cases)
    ]
    return {
        "province": dep.units.root.name(lang),
        "issuer": dep.calendar.name,
        "generated_at": h.generated_at,
        "period_start": h.shift_start,
        "period_end": h.shift_end,
        "duty_unit": unit_name(units, h.unit, lang),
        "outgoing": _officer(names, h.outgoing),
        "incoming": _officer(names, h.incoming),
        "phase": phase_name(h.phase, lang),
        "threshold": h.threshold,
        "came_in": [alert_line(r, units, lang, time=r.first_seen) for r in h.came_in[:TABLE_ROWS]],
        "came_in_total": h.came_in_total,
        "open_alerts": [alert_line(r, units, lang) for r in h.open_alerts[:TABLE_ROWS]],
        "open_alerts_total": h.open_alerts_total,
        "open_cases": open_cases,
        "overdue_cases": [case_line(c, units, lang, h.generated_at) for c in h.overdue_cases],
        "closed_cases": [case_line(c, units, lang, h.generated_at) for c in h.closed_cases],
        "notes": [
            {"at": n.at, "author": _officer(names, n.author), "text": n.text} for n in h.notes
        ],
        "chart": chart,
        "chart_caption": caption,
    }
