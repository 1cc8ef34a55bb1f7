"""The daily situation report for the commander: the day's numbers, trend, units, cases, duty."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.cases import charts
from vigil.cases.duty import Gap, coverage_gaps, roster
from vigil.cases.models import Case
from vigil.cases.queue import AlertFilter, alert_counts, alert_queue
from vigil.cases.reports.figures import (
    UnitLoad,
    alerts_per_day,
    findings_first_seen,
    open_alerts_by_unit,
    open_findings_by_capability,
)
from vigil.cases.reports.handover import TEMPLATES, duty_unit
from vigil.cases.reports.lines import alert_line, case_line
from vigil.cases.scope import visible_units
from vigil.cases.service import list_cases
from vigil.core.access import Actor, Permission
from vigil.core.clock import local_day, local_day_bounds, parse_local_day, to_local
from vigil.core.i18n import _
from vigil.core.severity import Severity
from vigil.deployment import Deployment
from vigil.reports.lines import capability_names, phase_name, unit_name
from vigil.reports.render import Report, check_lang, render_html

TITLE = "Daily situation report"
TREND_DAYS = 14
TOP_ALERTS = 10
#: How far ahead the duty roster is checked for hours nobody covers.
COVERAGE_AHEAD = timedelta(hours=24)
#: A unit runs a duty room when it had someone rostered this recently (or has someone ahead).
ROSTER_LOOKBACK = timedelta(days=7)
#: Rows per case list; a day with more is summarised by the totals above the tables.
CASE_ROWS = 100


@dataclass(frozen=True)
class CoverageGap:
    unit_name: str
    start: datetime
    end: datetime
    hours: float


def _cases_between(
    session: Session,
    actor: Actor,
    event: Literal["opened", "closed"],
    start: datetime,
    end: datetime,
) -> list[Case]:
    """Cases in the actor's units opened (or closed) in [start, end)."""
    actor.require(Permission.VIEW)
    col = Case.created_at if event == "opened" else Case.closed_at
    q = select(Case).where(col >= start, col < end)
    units = visible_units(session, actor)
    if units is not None:
        q = q.where(Case.unit.in_(units))
    return list(session.scalars(q.order_by(col, Case.id).limit(CASE_ROWS)))


def _coverage(
    dep: Deployment, session: Session, actor: Actor, now: datetime, lang: str
) -> list[CoverageGap]:
    """Hours of the next day with nobody on shift, in every duty room the actor sees."""
    rooms = {duty_unit(dep, actor)}
    rooms.update(
        s.unit for s in roster(session, actor, now - ROSTER_LOOKBACK, now + COVERAGE_AHEAD)
    )
    gaps: list[tuple[str, Gap]] = []
    for unit in sorted(rooms):
        if actor.sees(unit):
            gaps.extend((unit, g) for g in coverage_gaps(session, now, now + COVERAGE_AHEAD, unit))
    return [
        CoverageGap(unit_name(dep.units, unit, lang), g.start, g.end, round(g.hours, 1))
        for unit, g in sorted(gaps, key=lambda ug: (ug[1].start, ug[0]))
    ]


def _readiness(
    dep: Deployment,
    session: Session,
    actor: Actor,
    threshold: Severity,
    open_cases: list[Case],
    now: datetime,
    lang: str,
) -> list[UnitLoad]:
    loads: dict[str, UnitLoad] = {}

    def load(unit: str) -> UnitLoad:
        if unit not in loads:
            loads[unit] = UnitLoad(unit, unit_name(dep.units, unit, lang))
        return loads[unit]

    for unit, counts in open_alerts_by_unit(session, actor, threshold).items():
        load(unit).alerts = counts
    for case in open_cases:
        item = load(case.unit)
        item.open_cases += 1
        if case.due_at < now:
            item.overdue_cases += 1
    return sorted(loads.values(), key=UnitLoad.sort_key)


def report_day(dep: Deployment, text: str | None, field: str = "--date") -> date:
    """The day a person asked for (`--date`, the form's day), or the deployment's today."""
    return parse_local_day(text, field) if text else local_day(dep.now())


def daily_report(dep: Deployment, actor: Actor, day: date, lang: str) -> Report:
    """Render the situation of the local day `day` as `actor` sees it.

    The day's figures (new findings and alerts, cases opened and closed) count that day; the
    state (open alerts and cases, overdue, roster gaps ahead) is as of the moment of rendering.
    """
    check_lang(lang)
    actor.require(Permission.VIEW)
    start, end = local_day_bounds(day)
    now = dep.now()
    policy = dep.policy(min(now, end - timedelta(microseconds=1)))
    days = [day - timedelta(days=back) for back in range(TREND_DAYS - 1, -1, -1)]
    with dep.store.reader() as session:
        by_label = alert_counts(session, actor, policy)
        open_by_sev = {Severity.parse(label): n for label, n in by_label.items()}
        trend = alerts_per_day(session, actor, dep.calendar, days)
        by_capability = open_findings_by_capability(session, actor)
        open_cases = list_cases(session, actor, status="active")
        overdue = [c for c in open_cases if c.due_at < now]
        opened = _cases_between(session, actor, "opened", start, end)
        closed = _cases_between(session, actor, "closed", start, end)
        top = alert_queue(session, actor, policy, AlertFilter(per_page=TOP_ALERTS))
        units = dep.units
        context = {
            "province": units.root.name(lang),
            "issuer": dep.calendar.name,
            "generated_at": now,
            "day": day,
            "phase": phase_name(policy.phase, lang),
            "threshold": policy.alert_threshold,
            "voting_day": dep.calendar.voting_day,
            "days_to_voting": (to_local(dep.calendar.voting_day).date() - day).days,
            "new_findings": findings_first_seen(session, actor, start, end),
            "new_alerts": sum(trend[day].values()),
            "open_alerts": sum(open_by_sev.values()),
            "open_by_severity": [(sev, n) for sev, n in open_by_sev.items()],
            "open_cases_total": len(open_cases),
            "overdue_total": len(overdue),
            "closed_total": len(closed),
            "trend_chart": charts.alerts_over_time(days, trend, lang),
            "severity_chart": charts.open_by_severity(open_by_sev, lang, width=3.3),
            "capability_chart": charts.findings_by_capability(
                by_capability, capability_names(lang), lang, width=3.3
            )
            if by_capability
            else None,
            "readiness": _readiness(
                dep, session, actor, policy.alert_threshold, open_cases, now, lang
            ),
            "top_alerts": [alert_line(r, units, lang) for r in top.items],
            "top_total": top.total,
            "overdue_cases": [case_line(c, units, lang, now) for c in overdue[:CASE_ROWS]],
            "opened_cases": [case_line(c, units, lang, now) for c in opened],
            "closed_cases": [case_line(c, units, lang, now) for c in closed],
            "coverage_from": now,
            "coverage_to": now + COVERAGE_AHEAD,
            "coverage_gaps": _coverage(dep, session, actor, now, lang),
        }
    title = _(TITLE, lang)
    html = render_html("daily.html", {**context, "title": title}, lang, extra_dirs=[TEMPLATES])
    return Report("daily", title, lang, start, end, html)
