"""The room's detector: every latest declaration checked, one Finding per mismatch, and the
candidates' statuses saved with the findings (`vigil detect` and `vigil candidates check`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from vigil.candidates.check import (
    MIN_AGE,
    RULE_ADDRESS,
    RULE_AGE,
    RULE_BIRTH,
    RULE_CHILD,
    RULE_CITIZEN_ID,
    RULE_COMMUNE,
    RULE_DECEASED,
    RULE_NAME,
    RULE_NOT_FOUND,
    RULE_PARENT,
    RULE_SPOUSE,
    CandidateCheck,
    Mismatch,
    Rules,
    check_declaration,
    wanted_of,
)
from vigil.candidates.declarations import Declaration
from vigil.candidates.ingest import latest_declarations
from vigil.candidates.lookup import link_then_exact, load_slice, locate_all
from vigil.candidates.models import CandidateCheckRow
from vigil.core.clock import local_day
from vigil.core.finding import OPEN_STATUSES, Finding, FindingStatus, occurrence_key
from vigil.core.personal import PERSONAL_KEY, PersonalField
from vigil.core.severity import Severity
from vigil.deployment import Deployment
from vigil.plugins import Detection
from vigil.store.models import FindingRow

CAPABILITY = "candidates"
#: How declarations with a wrong or missing citizen ID are found in the registry.
LINKER = link_then_exact

#: Severity and title (English, Vietnamese) of each rule; the title names the candidate only.
RULE_TEXT: dict[str, tuple[Severity, str, str]] = {
    RULE_NOT_FOUND: (
        Severity.HIGH,
        "Candidate not found in the registry",
        "Không tìm thấy ứng cử viên trong dữ liệu dân cư",
    ),
    RULE_CITIZEN_ID: (
        Severity.MEDIUM,
        "Declared citizen ID differs from the registry",
        "Số định danh khai báo khác dữ liệu dân cư",
    ),
    RULE_NAME: (
        Severity.MEDIUM,
        "Declared name differs from the registry",
        "Họ tên khai báo khác dữ liệu dân cư",
    ),
    RULE_BIRTH: (
        Severity.MEDIUM,
        "Declared birth date differs from the registry",
        "Ngày sinh khai báo khác dữ liệu dân cư",
    ),
    RULE_AGE: (
        Severity.HIGH,
        "Candidate under the eligibility age on voting day",
        "Ứng cử viên chưa đủ tuổi ứng cử vào ngày bầu cử",
    ),
    RULE_DECEASED: (
        Severity.HIGH,
        "The registry records the candidate as deceased",
        "Dữ liệu dân cư ghi nhận ứng cử viên đã chết",
    ),
    RULE_COMMUNE: (
        Severity.LOW,
        "Declared commune differs from the registry",
        "Xã khai báo khác dữ liệu dân cư",
    ),
    RULE_ADDRESS: (
        Severity.LOW,
        "Declared address differs from the registry",
        "Địa chỉ khai báo khác dữ liệu dân cư",
    ),
    RULE_SPOUSE: (
        Severity.LOW,
        "Declared spouse not as recorded",
        "Vợ/chồng khai báo không khớp dữ liệu dân cư",
    ),
    RULE_PARENT: (
        Severity.LOW,
        "Declared parent not as recorded",
        "Cha/mẹ khai báo không khớp dữ liệu dân cư",
    ),
    RULE_CHILD: (
        Severity.LOW,
        "Declared child not as recorded",
        "Con khai báo không khớp dữ liệu dân cư",
    ),
}

#: The personal-data kind of each compared field (None: shown as it is).
FIELD_KIND: dict[str, PersonalField | None] = {
    "identity": PersonalField.FULL_NAME,
    "full_name": PersonalField.FULL_NAME,
    "spouse": PersonalField.FULL_NAME,
    "parents": PersonalField.FULL_NAME,
    "children": PersonalField.FULL_NAME,
    "citizen_id": PersonalField.CITIZEN_ID,
    "birth_date": PersonalField.BIRTH_DATE,
    "death_date": PersonalField.BIRTH_DATE,
    "address": PersonalField.ADDRESS,
    "commune": None,
    "age": None,
}


def rules_for(dep: Deployment) -> Rules:
    """The voting day (local date) of the calendar and the eligibility age of the deployment."""
    settings = dep.province.thresholds.get(CAPABILITY, {})
    voting_day: date = local_day(dep.calendar.voting_day)
    return Rules(voting_day, int(settings.get("min_age", MIN_AGE)))


def check_all(
    dep: Deployment,
    declarations: list[Declaration] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[CandidateCheck]:
    """Every declaration (the latest of each candidate) against the registry."""
    if declarations is None:
        declarations = latest_declarations(dep.lake)
    ids = [d.citizen_id for d in declarations if d.citizen_id]
    names = [n for d in declarations for n in (d.full_name, *d.spouse, *d.parents, *d.children)]
    registry = load_slice(dep.lake, ids, names)
    wanted = [wanted_of(d, dep.units) for d in declarations]
    found = locate_all(dep.lake, registry, wanted, LINKER)
    rules = rules_for(dep)
    results = []
    for done, declaration in enumerate(declarations, start=1):
        located = found[declaration.candidate_id]
        results.append(check_declaration(declaration, located, registry, dep.units, rules))
        if progress and (done % 100 == 0 or done == len(declarations)):
            progress(done, len(declarations))
    return results


def evidence_of(check: CandidateCheck, m: Mismatch) -> dict[str, Any]:
    """Both sides of a mismatch; personal values only under the `personal` key."""
    evidence: dict[str, Any] = {
        "candidate_id": check.candidate_id,
        "field": m.field,
        "reason": m.reason,
        "status": check.status.value,
        "person_id": check.person_id,
        "found_by": check.method,
        "probability": check.probability,
    }
    if check.explanation:
        evidence["match_weights"] = {k: round(v, 2) for k, v in check.explanation.items()}
    kind = FIELD_KIND.get(m.field, PersonalField.FULL_NAME)
    if kind is None:
        evidence["declared"], evidence["recorded"] = m.declared, m.recorded
    else:
        evidence[PERSONAL_KEY] = {
            f"{kind.value}:declared": m.declared,
            f"{kind.value}:recorded": m.recorded,
        }
    return evidence


def findings_of(check: CandidateCheck, observed_at: datetime) -> list[Finding]:
    found = []
    for m in check.mismatches:
        severity, title, title_vi = RULE_TEXT[m.rule]
        # One finding per fact: two children not found are two findings on one candidate.
        scope = occurrence_key(m.field, m.declared, m.recorded)
        found.append(
            Finding(
                capability=CAPABILITY,
                rule=m.rule,
                severity=severity,
                unit=check.unit,
                subject=check.candidate_id,
                title=f"{title}: {check.candidate_id}",
                title_vi=f"{title_vi}: {check.candidate_id}",
                evidence=evidence_of(check, m),
                observed_at=observed_at,
                scope=scope,
            )
        )
    return found


def resolve_stale(session: Session, current: set[str], at: datetime) -> int:
    """Open findings of the room that this run no longer makes (a declaration corrected, a
    record fixed) are resolved; one found again later is reopened by the store."""
    rows = session.scalars(
        select(FindingRow).where(
            FindingRow.capability == CAPABILITY,
            FindingRow.status.in_([s.value for s in OPEN_STATUSES]),
        )
    ).all()
    stale = [r for r in rows if r.fingerprint not in current]
    for row in stale:
        row.status = FindingStatus.RESOLVED.value
        row.status_reason = "the last check no longer finds this mismatch"
        row.updated_at = at.replace(tzinfo=None)
    return len(stale)


def save_checks(session: Session, checks: list[CandidateCheck], at: datetime) -> None:
    """The statuses of this run replace those of the last one."""
    session.execute(delete(CandidateCheckRow))
    session.add_all(
        CandidateCheckRow(
            candidate_id=c.candidate_id,
            unit=c.unit,
            status=c.status.value,
            full_name=c.full_name,
            mismatches=[{**m.as_dict(), "rule": m.rule, "reason": m.reason} for m in c.mismatches],
            person_id=c.person_id,
            method=c.method,
            probability=c.probability,
            checked_at=at.replace(tzinfo=None),
        )
        for c in checks
    )


def detect(dep: Deployment) -> Detection:
    """The `vigil_detect` of the room."""
    checks = check_all(dep)
    now = dep.now()
    findings = [f for c in checks for f in findings_of(c, now)]

    def save(session: Session) -> None:
        save_checks(session, checks, now)
        resolve_stale(session, {f.fingerprint for f in findings}, now)

    return Detection(findings, save)
