"""Table rows of the reports: findings and cases as printed, in one language, units named."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from vigil.cases.models import Case, CaseStatus
from vigil.core.calendar import Phase
from vigil.core.i18n import _
from vigil.core.severity import Severity
from vigil.core.units import UnitTree
from vigil.store.models import FindingRow

#: Capabilities as a reader knows them (English msgids, translated in reports/locales/vi.po).
CAPABILITY_NAMES: dict[str, str] = {
    "monitor": "Security monitoring",
    "inspect": "Inspections",
    "infowatch": "Information watch",
    "registry": "Population and voter data",
    "candidates": "Candidate checks",
    "cases": "Duty room operations",
}


#: Election phases as a report says them.
PHASE_NAMES: dict[Phase, str] = {
    Phase.BEFORE: "Before voting",
    Phase.DURING: "Voting period",
    Phase.AFTER: "After voting",
}


def phase_name(phase: Phase, lang: str) -> str:
    return _(PHASE_NAMES[phase], lang)


def capability_name(capability: str, lang: str) -> str:
    english = CAPABILITY_NAMES.get(capability)
    return _(english, lang) if english else capability


def unit_name(units: UnitTree, code: str, lang: str) -> str:
    return units.get(code).name(lang) if code in units else code


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
        title=(row.title_vi or row.title) if lang == "vi" else row.title,
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
