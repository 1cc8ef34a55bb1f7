"""The alert queue: open findings at or above what the election phase asks for, worst first.

Built to stay fast on millions of findings: every query walks one of the findings indexes in
order and stops at the page (ix_findings_queue, or ix_findings_unit_queue once per unit in scope;
the capability and status filters have their own, see vigil.cases.models), and totals are
counted only up to COUNT_CAP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    func,
    literal,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session

from vigil.cases.scope import visible_units
from vigil.core.access import Actor, Permission
from vigil.core.calendar import Phase, PhasePolicy
from vigil.core.clock import local_day_bounds, to_local, to_utc
from vigil.core.errors import ValidationError
from vigil.core.finding import FindingStatus
from vigil.core.severity import Severity
from vigil.store.models import FindingRow, UnitRow

#: Totals above this are shown as "10,000+": counting millions of rows for a number nobody reads
#: exactly would cost more than the page itself.
COUNT_CAP = 10_000
MAX_PER_PAGE = 500
#: Above this many units a per-unit merge is no longer cheaper than one filtered index walk.
MAX_MERGE_UNITS = 400

_ORDER = (FindingRow.severity.desc(), FindingRow.last_seen.desc(), FindingRow.id.desc())


@dataclass
class AlertFilter:
    #: That unit and the units under it (must be in the actor's scope).
    unit: str | None = None
    capability: str | None = None
    #: Raises the phase's threshold, never lowers it.
    min_severity: Severity | None = None
    #: A finding status; None means the open ones (new and acknowledged).
    status: str | None = None
    page: int = 1
    per_page: int = 50


@dataclass
class AlertPage:
    items: list[FindingRow]
    #: Number of matching alerts, or COUNT_CAP when `total_capped`.
    total: int
    threshold: Severity
    phase: Phase
    page: int
    per_page: int
    total_capped: bool = False
    #: The units the page was filtered on; None means every unit.
    units: list[str] | None = field(default=None, repr=False)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def total_label(self) -> str:
        return f"{self.total:,}+" if self.total_capped else f"{self.total:,}"


def effective_threshold(policy: PhasePolicy, min_severity: Severity | None) -> Severity:
    if min_severity is None:
        return policy.alert_threshold
    return max(policy.alert_threshold, Severity.parse(min_severity))


def _conditions(threshold: Severity, filt: AlertFilter) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [FindingRow.severity >= int(threshold)]
    if filt.status is None:
        conds.append(FindingRow.is_open == true())
    else:
        try:
            status = FindingStatus(filt.status)
        except ValueError as e:
            known = ", ".join(s.value for s in FindingStatus)
            raise ValidationError(f"unknown status {filt.status!r}; known: {known}") from e
        # The status alone picks the row set (ix_findings_status_queue walks it in order).
        conds.append(FindingRow.status == status.value)
    if filt.capability:
        conds.append(FindingRow.capability == filt.capability)
    return conds


def _page_ids(
    session: Session,
    conds: list[ColumnElement[bool]],
    units: list[str] | None,
    offset: int,
    limit: int,
) -> list[int]:
    if units is None or len(units) > MAX_MERGE_UNITS:
        q = select(FindingRow.id).where(*conds)
        if units is not None:
            q = q.where(FindingRow.unit.in_(units))
        return list(session.scalars(q.order_by(*_ORDER).offset(offset).limit(limit)))
    if not units:
        return []
    if len(units) == 1:
        q = select(FindingRow.id).where(*conds, FindingRow.unit == units[0])
        return list(session.scalars(q.order_by(*_ORDER).offset(offset).limit(limit)))
    # One ordered walk of ix_findings_unit_queue per unit, each stopping after the rows the page
    # could need, then a merge of those few rows: no sort of the whole scope.
    arms: list[Select[tuple[int, int, datetime]]] = []
    for unit in units:
        arm = (
            select(FindingRow.id, FindingRow.severity, FindingRow.last_seen)
            .where(*conds, FindingRow.unit == unit)
            .order_by(*_ORDER)
            .limit(offset + limit)
            .subquery()
        )
        arms.append(select(arm.c.id, arm.c.severity, arm.c.last_seen))
    merged = union_all(*arms).subquery("merged")
    q = (
        select(merged.c.id)
        .order_by(merged.c.severity.desc(), merged.c.last_seen.desc(), merged.c.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(session.scalars(q))


def _capped_count(
    session: Session, conds: list[ColumnElement[bool]], units: list[str] | None
) -> tuple[int, bool]:
    q = select(literal(1).label("one")).select_from(FindingRow).where(*conds)
    if units is not None:
        q = q.where(FindingRow.unit.in_(units))
    n = session.scalar(select(func.count()).select_from(q.limit(COUNT_CAP + 1).subquery())) or 0
    return (COUNT_CAP, True) if n > COUNT_CAP else (n, False)


def alert_queue(
    session: Session, actor: Actor, policy: PhasePolicy, filt: AlertFilter
) -> AlertPage:
    """One page of the alert queue the actor may see (ORDER BY severity, last_seen, id DESC)."""
    actor.require(Permission.VIEW)
    if filt.page < 1:
        raise ValidationError("page must be 1 or more")
    if not 1 <= filt.per_page <= MAX_PER_PAGE:
        raise ValidationError(f"per_page must be between 1 and {MAX_PER_PAGE}")
    threshold = effective_threshold(policy, filt.min_severity)
    units = visible_units(session, actor, filt.unit)
    conds = _conditions(threshold, filt)
    walk = units
    if filt.status is not None and units is None:
        # ix_findings_status_queue is (status, unit, severity, last_seen): one status is walked
        # in order per unit, so a status view of the whole province is a merge of all units.
        walk = sorted(session.scalars(select(UnitRow.code)))
    offset = (filt.page - 1) * filt.per_page
    ids = _page_ids(session, conds, walk, offset, filt.per_page)
    rows = {r.id: r for r in session.scalars(select(FindingRow).where(FindingRow.id.in_(ids)))}
    total, capped = _capped_count(session, conds, walk)
    if not capped:
        # A page read after the count may see a row the count missed; never show fewer.
        total = max(total, offset + len(ids))
    return AlertPage(
        items=[rows[i] for i in ids if i in rows],
        total=total,
        threshold=threshold,
        phase=policy.phase,
        page=filt.page,
        per_page=filt.per_page,
        total_capped=capped,
        units=units,
    )


def alert_counts(session: Session, actor: Actor, policy: PhasePolicy) -> dict[str, int]:
    """Open alerts by severity label, most severe first; every label at or above the threshold."""
    actor.require(Permission.VIEW)
    units = visible_units(session, actor)
    q = select(FindingRow.severity, func.count()).where(
        FindingRow.is_open == true(), FindingRow.severity >= int(policy.alert_threshold)
    )
    if units is None:
        q = q.group_by(FindingRow.severity)
    else:
        # Grouping by unit first lets the count walk ix_findings_unit_queue for just these units.
        q = q.add_columns(FindingRow.unit).where(FindingRow.unit.in_(units))
        q = q.group_by(FindingRow.unit, FindingRow.severity)
    found: dict[int, int] = {}
    for row in session.execute(q):
        found[int(row[0])] = found.get(int(row[0]), 0) + int(row[1])
    return {
        s.label: found.get(int(s), 0)
        for s in sorted(Severity, reverse=True)
        if s >= policy.alert_threshold
    }


def alerts_over_time(
    session: Session, actor: Actor, days: int, now: datetime
) -> list[tuple[date, int]]:
    """Findings first seen on each of the last `days` local days (today included), oldest first."""
    actor.require(Permission.VIEW)
    if not 1 <= days <= 366:
        raise ValidationError("days must be between 1 and 366")
    units = visible_units(session, actor)
    today = to_local(to_utc(now)).date()
    day_list = [today - timedelta(days=back) for back in range(days - 1, -1, -1)]
    bounds = [local_day_bounds(day) for day in day_list]
    # One scan of the window, one count per day (the dashboard asks on every view).
    seen = FindingRow.first_seen
    q = select(
        *(func.sum(case((and_(seen >= start, seen < end), 1), else_=0)) for start, end in bounds)
    ).where(seen >= bounds[0][0], seen < bounds[-1][1])
    if units is not None:
        q = q.where(FindingRow.unit.in_(units))
    counts = session.execute(q).one()
    return [(day, int(n or 0)) for day, n in zip(day_list, counts, strict=True)]
