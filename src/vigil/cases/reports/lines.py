"""Table rows of the duty room's reports: alerts and cases as printed, in one language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from vigil.cases.alert_row import without_dirs
from vigil.cases.models import Case, CaseStatus
from vigil.core.i18n import _
from vigil.core.severity import Severity
from vigil.core.units import UnitTree
from vigil.reports.lines import capability_name, unit_name
from vigil.store.models import FindingRow


@dataclass(frozen=True)
class AlertLine:
    id: int
    #: The moment the table is about: first seen (what came in) or last seen (what is open).
    time: datetime
    severity: Severity
    unit: str
    unit_name: str
    capability: str
    title: str
    count: int
    status: str


def alert_line(
    row: FindingRow, units: UnitTree, lang: str, *, time: datetime | None = None
) -> AlertLine:
    return AlertLine(
        id=row.id,
        time=time or row.last_seen,
        severity=Severity(row.severity),
        unit=row.unit,
        unit_name=unit_name(units, row.unit, lang),
        capability=capability_name(row.capability, lang),
        # A report is read away from the deployment: its paths say nothing, the file's name does.
        title=without_dirs((row.title_vi or row.title) if lang == "vi" else row.title),
        count=row.count,
        status=_(row.status, lang),
    )


@dataclass(frozen=True)
class CaseLine:
    number: str
    title: str
    severity: Severity
    unit: str
    unit_name: str
    owner: str | None
    status: str
    created_at: datetime
    due_at: datetime
    closed_at: datetime | None
    overdue: bool


def is_overdue(case: Case, now: datetime) -> bool:
    return case.status != CaseStatus.CLOSED.value and case.due_at < now


def case_line(case: Case, units: UnitTree, lang: str, now: datetime) -> CaseLine:
    return CaseLine(
        number=case.number,
        title=case.title,
        severity=Severity(case.severity),
        unit=case.unit,
        unit_name=unit_name(units, case.unit, lang),
        owner=case.owner,
        status=_(case.status, lang),
        created_at=case.created_at,
        due_at=case.due_at,
        closed_at=case.closed_at,
        overdue=is_overdue(case, now),
    )
