"""Numbers the duty room's reports count from the store: alerts per day, findings, unit load.

Every count is limited to the units the actor sees (the same rule as the alert queue) and is one
GROUP BY over an indexed column, so a report of a busy province costs a few queries, not a scan
into Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from vigil.cases.scope import visible_units
from vigil.core.access import Actor, Permission
from vigil.core.calendar import ElectionCalendar
from vigil.core.clock import local_day_bounds
from vigil.core.severity import Severity
from vigil.reports.figures import SeverityCounts
from vigil.store.models import FindingRow


def alerts_per_day(
    session: Session, actor: Actor, calendar: ElectionCalendar, days: Sequence[date]
) -> dict[date, SeverityCounts]:
    """Alerts first seen on each local day, by severity.

    A finding is an alert when it reaches the threshold of the phase in force that day, so the
    bars of the days before voting and of voting day itself each follow their own rule.
    """
    actor.require(Permission.VIEW)
    units = visible_units(session, actor)
    out: dict[date, SeverityCounts] = {}
    for day in days:
        start, end = local_day_bounds(day)
        threshold = calendar.policy_at(start).alert_threshold
        q = (
            select(FindingRow.severity, func.count())
            .where(
                FindingRow.first_seen >= start,
                FindingRow.first_seen < end,
                FindingRow.severity >= int(threshold),
            )
            .group_by(FindingRow.severity)
        )
        if units is not None:
            q = q.where(FindingRow.unit.in_(units))
        out[day] = {Severity(int(sev)): int(n) for sev, n in session.execute(q)}
    return out


def alert_moments(
    session: Session, actor: Actor, threshold: Severity, start: datetime, end: datetime
) -> list[tuple[datetime, Severity]]:
    """(first seen, severity) of every alert first seen in [start, end): two narrow columns, so a
    chart of a busy shift counts all of them, not only the rows a table shows."""
    actor.require(Permission.VIEW)
    units = visible_units(session, actor)
    q = select(FindingRow.first_seen, FindingRow.severity).where(
        FindingRow.first_seen >= start,
        FindingRow.first_seen < end,
        FindingRow.severity >= int(threshold),
    )
    if units is not None:
        q = q.where(FindingRow.unit.in_(units))
    return [(seen, Severity(int(sev))) for seen, sev in session.execute(q)]


def open_findings_by_capability(session: Session, actor: Actor) -> dict[str, SeverityCounts]:
    """Open findings (any severity) per capability and severity."""
    actor.require(Permission.VIEW)
    units = visible_units(session, actor)
    q = (
        select(FindingRow.capability, FindingRow.severity, func.count())
        .where(FindingRow.is_open == true())
        .group_by(FindingRow.capability, FindingRow.severity)
    )
    if units is not None:
        q = q.where(FindingRow.unit.in_(units))
    out: dict[str, SeverityCounts] = {}
    for capability, sev, n in session.execute(q):
        out.setdefault(capability, {})[Severity(int(sev))] = int(n)
    return out


def findings_first_seen(session: Session, actor: Actor, start: datetime, end: datetime) -> int:
    """How many findings (any severity) were first seen in [start, end)."""
    actor.require(Permission.VIEW)
    units = visible_units(session, actor)
    q = (
        select(func.count())
        .select_from(FindingRow)
        .where(FindingRow.first_seen >= start, FindingRow.first_seen < end)
    )
    if units is not None:
        q = q.where(FindingRow.unit.in_(units))
    return int(session.scalar(q) or 0)


def open_alerts_by_unit(
    session: Session, actor: Actor, threshold: Severity
) -> dict[str, SeverityCounts]:
    """Open alerts per unit and severity."""
    actor.require(Permission.VIEW)
    units = visible_units(session, actor)
    q = (
        select(FindingRow.unit, FindingRow.severity, func.count())
        .where(FindingRow.is_open == true(), FindingRow.severity >= int(threshold))
        .group_by(FindingRow.unit, FindingRow.severity)
    )
    if units is not None:
        q = q.where(FindingRow.unit.in_(units))
    out: dict[str, SeverityCounts] = {}
    for unit, sev, n in session.execute(q):
        out.setdefault(unit, {})[Severity(int(sev))] = int(n)
    return out


@dataclass
class UnitLoad:
    """What one unit has on its plate: the readiness table of the daily report."""

    unit: str
    name: str
    alerts: SeverityCounts = field(default_factory=dict)
    open_cases: int = 0
    overdue_cases: int = 0

    @property
    def open_alerts(self) -> int:
        return sum(self.alerts.values())

    @property
    def critical(self) -> int:
        return self.alerts.get(Severity.CRITICAL, 0)

    @property
    def high(self) -> int:
        return self.alerts.get(Severity.HIGH, 0)

    @property
    def other(self) -> int:
        return self.open_alerts - self.critical - self.high

    @property
    def level(self) -> str:
        """urgent: a critical alert or an overdue case; watch: anything open; normal: nothing."""
        if self.critical or self.overdue_cases:
            return "urgent"
        if self.open_alerts or self.open_cases:
            return "watch"
        return "normal"

    def sort_key(self) -> tuple[int, int, int, int, str]:
        return (
            -self.critical,
            -self.overdue_cases,
            -self.high,
            -(self.open_alerts + self.open_cases),
            self.unit,
        )
