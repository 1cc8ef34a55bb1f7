"""The duty room's own detectors: cases past their due time, holes in the 24/7 duty roster."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from vigil.cases.duty import CAPABILITY, GAP_RULE, Hole, coverage_holes
from vigil.cases.service import OVERDUE_RULE, overdue_cases
from vigil.core.calendar import ElectionCalendar, Phase
from vigil.core.clock import format_local, to_utc
from vigil.core.finding import Finding, occurrence_key
from vigil.core.i18n import _
from vigil.core.severity import Severity

GAP_HORIZON = timedelta(days=7)
OVERDUE_TITLE = "Case %(number)s is overdue (due %(due)s): %(title)s"
GAP_TITLE = "Nobody on duty %(interval)s"


def detect_overdue_cases(session: Session, now: datetime) -> list[Finding]:
    """One finding per overdue case; its occurrence is (number, due_at): re-runs add nothing."""
    findings = []
    for case in overdue_cases(session, now):
        values = {"number": case.number, "due": format_local(case.due_at), "title": case.title}
        findings.append(
            Finding(
                capability=CAPABILITY,
                rule=OVERDUE_RULE,
                severity=Severity(case.severity),
                unit=case.unit,
                subject=case.number,
                title=OVERDUE_TITLE % values,
                title_vi=_(OVERDUE_TITLE, "vi") % values,
                evidence={
                    "case_id": case.id,
                    "number": case.number,
                    "due_at": case.due_at.isoformat(),
                    "owner": case.owner,
                    "status": case.status,
                    "playbook": case.playbook,
                },
                observed_at=case.due_at,
                occurrences=(occurrence_key(case.number, case.due_at.isoformat()),),
            )
        )
    return findings


def _during_voting(calendar: ElectionCalendar, hole: Hole) -> bool:
    during = calendar.policies[Phase.DURING]
    return hole.seen.start < during.ends and hole.seen.end > during.starts


def detect_duty_gaps(
    session: Session, calendar: ElectionCalendar, unit: str, now: datetime
) -> list[Finding]:
    """One finding per hole in the roster of `unit` over the next seven days.

    A hole is named by its true edges (end of the shift before, start of the shift after), so the
    same hole is the same finding however often the detector runs while time passes.
    """
    now = to_utc(now)
    findings = []
    for hole in coverage_holes(session, now, now + GAP_HORIZON, unit):
        severity = Severity.HIGH if _during_voting(calendar, hole) else Severity.MEDIUM
        findings.append(
            Finding(
                capability=CAPABILITY,
                rule=GAP_RULE,
                severity=severity,
                unit=unit,
                subject=hole.subject,
                title=GAP_TITLE % {"interval": hole.subject},
                title_vi=_(GAP_TITLE, "vi") % {"interval": _(hole.subject, "vi")},
                evidence={
                    "start": hole.start.isoformat() if hole.start else None,
                    "end": hole.end.isoformat() if hole.end else None,
                    "checked_start": hole.seen.start.isoformat(),
                    "checked_end": hole.seen.end.isoformat(),
                    "hours_in_next_7_days": round(hole.seen.hours, 2),
                },
                observed_at=now,
                occurrences=(
                    occurrence_key(
                        unit,
                        hole.start.isoformat() if hole.start else None,
                        hole.end.isoformat() if hole.end else None,
                    ),
                ),
            )
        )
    return findings
