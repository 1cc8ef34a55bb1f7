"""Readiness per unit for the commander's dashboard: open alerts, open cases, overdue cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Result, func, select, true
from sqlalchemy.orm import Session

from vigil.cases.models import Case, CaseStatus
from vigil.core.access import Actor, Permission
from vigil.core.calendar import PhasePolicy
from vigil.core.units import Unit, UnitKind, UnitTree
from vigil.store.models import FindingRow
from vigil.web.unit_tree import walk

ROW_KINDS = frozenset({UnitKind.PROVINCE, UnitKind.DEPARTMENT, UnitKind.COMMUNE})


@dataclass(frozen=True)
class UnitReadiness:
    unit: Unit
    depth: int
    open_alerts: int
    open_cases: int
    overdue: int

    @property
    def state(self) -> str:
        """ok, watch (work waiting) or late (a case is past its due time)."""
        if self.overdue:
            return "late"
        return "watch" if self.open_alerts or self.open_cases else "ok"


def _counts(result: Result[str, int]) -> dict[str, int]:
    return {unit: int(n) for unit, n in result}


def readiness(
    session: Session, actor: Actor, tree: UnitTree, policy: PhasePolicy, now: datetime
) -> list[UnitReadiness]:
    """Rows of the units the actor sees, in tree order; a row also counts the units under it."""
    actor.require(Permission.VIEW)
    scope = sorted(actor.scope)
    alerts = _counts(
        session.execute(
            select(FindingRow.unit, func.count())
            .where(
                FindingRow.is_open == true(),
                FindingRow.severity >= int(policy.alert_threshold),
                FindingRow.unit.in_(scope),
            )
            .group_by(FindingRow.unit)
        )
    )
    open_case = Case.status != CaseStatus.CLOSED.value
    cases = _counts(
        session.execute(
            select(Case.unit, func.count())
            .where(open_case, Case.unit.in_(scope))
            .group_by(Case.unit)
        )
    )
    overdue = _counts(
        session.execute(
            select(Case.unit, func.count())
            .where(open_case, Case.due_at < now, Case.unit.in_(scope))
            .group_by(Case.unit)
        )
    )
    buckets = _buckets(tree, actor)
    rows: dict[str, list[int]] = {code: [0, 0, 0] for code in buckets.values()}
    for column, counts in enumerate((alerts, cases, overdue)):
        for code, n in counts.items():
            if code in buckets:
                rows[buckets[code]][column] += n
    return [
        UnitReadiness(unit, depth, *rows[unit.code])
        for unit, depth in walk(tree)
        if unit.code in rows
    ]


def _buckets(tree: UnitTree, actor: Actor) -> dict[str, str]:
    """Each unit in scope -> the row that counts it.

    Rows are the province, departments and communes (about 35 in a province): villages and
    commune police roll up into their commune, so the table stays one screen long.
    """
    out: dict[str, str] = {}
    for unit, _depth in walk(tree):
        if unit.code not in actor.scope:
            continue
        if unit.kind in ROW_KINDS or unit.parent is None or unit.parent not in actor.scope:
            out[unit.code] = unit.code
        else:
            out[unit.code] = out[unit.parent]
    return out
