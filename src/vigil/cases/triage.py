"""Triage of alerts: acknowledge, false positive, merge duplicates, escalate into a case.

Each action needs Permission.TRIAGE and the finding's unit in the actor's scope, checks that the
finding's status allows it (ConflictError otherwise) and writes an audit entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from vigil.cases.models import Case, CaseStatus, EventKind
from vigil.cases.playbooks import Playbook, get_playbook, load_playbooks, suggest_for
from vigil.cases.scope import lowest_common_unit, unit_tree
from vigil.cases.service import get_case, open_case, record_event
from vigil.core.access import Actor, Permission, require_found, storable_id
from vigil.core.calendar import PhasePolicy
from vigil.core.clock import to_utc, utcnow
from vigil.core.errors import ConflictError, Term, ValidationError
from vigil.core.finding import OPEN_STATUSES, FindingStatus
from vigil.core.severity import Severity
from vigil.store.audit import audit
from vigil.store.models import FindingOccurrence, FindingRow

MAX_REASON = 2000


class PlaybookNeeded(ValidationError):
    """No playbook fits the findings to escalate and none was chosen: the officer must choose."""

    code = "playbook_needed"


MERGE_NOTE = "Findings %(merged)s merged into finding %(into)s"
_OPEN = {s.value for s in OPEN_STATUSES}


def _finding(session: Session, actor: Actor, finding_id: int) -> FindingRow:
    actor.require(Permission.TRIAGE)
    row = session.get(FindingRow, storable_id(finding_id), with_for_update=True)
    return require_found(actor, row, f"no finding {finding_id}")


#: What an action on a finding that is no longer open is told, by action (one message each, so
#: that a page says it in the officer's language).
_NOT_OPEN = {
    "acknowledge": "finding %(id)s is %(status)s; cannot acknowledge it",
    "mark as false positive": "finding %(id)s is %(status)s; cannot mark it as a false positive",
    "merge": "finding %(id)s is %(status)s; cannot merge it",
    "escalate": "finding %(id)s is %(status)s; cannot escalate it",
    "link": "finding %(id)s is %(status)s; cannot link it",
}


def _require_open(row: FindingRow, action: str) -> None:
    if row.status not in _OPEN:
        raise ConflictError(_NOT_OPEN[action], params={"id": row.id, "status": Term(row.status)})


def _ids(values: Iterable[int], what: str) -> list[int]:
    ids = list(dict.fromkeys(int(v) for v in values))
    if not ids:
        raise ValidationError(f"give at least one {what}")
    return ids


def acknowledge(
    session: Session, actor: Actor, finding_id: int, note: str = "", now: datetime | None = None
) -> FindingRow:
    """'I have seen this and I am on it': the alert stays in the queue, marked as taken."""
    row = _finding(session, actor, finding_id)
    if row.status == FindingStatus.ACKNOWLEDGED.value:
        raise ConflictError("finding %(id)s is already acknowledged", params={"id": row.id})
    _require_open(row, "acknowledge")
    row.status = FindingStatus.ACKNOWLEDGED.value
    row.status_reason = (note or "").strip()[:MAX_REASON]
    row.updated_at = to_utc(now) if now else utcnow()
    audit(session, actor, "finding.ack", f"finding:{row.id}", {"note": row.status_reason}, row.unit)
    return row


def mark_false_positive(
    session: Session, actor: Actor, finding_id: int, reason: str, now: datetime | None = None
) -> FindingRow:
    """Suppress a finding for good: repeats of it stay false positives (vigil.store.findings)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("a false positive needs a reason")
    row = _finding(session, actor, finding_id)
    _require_open(row, "mark as false positive")
    row.status = FindingStatus.FALSE_POSITIVE.value
    row.status_reason = reason[:MAX_REASON]
    row.updated_at = to_utc(now) if now else utcnow()
    audit(
        session, actor, "finding.false_positive", f"finding:{row.id}", {"reason": reason}, row.unit
    )
    return row


def _insert_occurrences(session: Session) -> postgresql.Insert | sqlite.Insert:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(FindingOccurrence)
    return sqlite.insert(FindingOccurrence)


def merge_findings(
    session: Session,
    actor: Actor,
    target_id: int,
    other_ids: list[int],
    now: datetime | None = None,
) -> FindingRow:
    """Fold duplicates of one incident into `target_id`.

    The others get status 'merged' and merged_into = target, and keep their own rows and counts
    as they were. Their occurrence keys are copied to the target, whose count is then recounted
    as its distinct keys, the store's rule everywhere: an observation two detectors both saw
    counts once. The target takes the earliest first_seen, the latest last_seen and the highest
    severity. Only open findings can be folded; the target may also be one already in a case.
    """
    target = _finding(session, actor, target_id)
    if target.status not in {*_OPEN, FindingStatus.ESCALATED.value}:
        raise ConflictError(f"finding {target.id} is {target.status}; cannot merge into it")
    ids = [i for i in _ids(other_ids, "finding to merge") if i != target.id]
    if not ids:
        raise ValidationError("a finding cannot be merged into itself")
    others = [_finding(session, actor, i) for i in ids]
    for row in others:
        _require_open(row, "merge")
    at = to_utc(now) if now else utcnow()

    occ = FindingOccurrence.__table__
    copy = _insert_occurrences(session).from_select(
        ["finding_id", "key", "seen_at"],
        select(literal(target.id), occ.c.key, occ.c.seen_at).where(occ.c.finding_id.in_(ids)),
    )
    session.execute(copy.on_conflict_do_nothing(index_elements=["finding_id", "key"]))
    target.count = int(
        session.scalar(select(func.count()).select_from(occ).where(occ.c.finding_id == target.id))
        or 0
    )
    target.first_seen = min([target.first_seen, *(r.first_seen for r in others)])
    target.last_seen = max([target.last_seen, *(r.last_seen for r in others)])
    target.severity = max([target.severity, *(r.severity for r in others)])
    target.updated_at = at
    for row in others:
        row.status = FindingStatus.MERGED.value
        row.merged_into = target.id
        row.status_reason = f"merged into finding {target.id}"
        row.updated_at = at
    if target.case_id is not None:
        case = session.get(Case, target.case_id)
        if case is not None:
            record_event(
                session,
                case,
                actor,
                EventKind.NOTE,
                MERGE_NOTE % {"merged": ", ".join(map(str, ids)), "into": target.id},
                {"merged": ids, "into": target.id},
                at,
            )
    audit(
        session,
        actor,
        "finding.merge",
        f"finding:{target.id}",
        {"merged": ids, "count": target.count},
        target.unit,
    )
    return target


def escalate(
    session: Session,
    actor: Actor,
    finding_ids: list[int],
    policy: PhasePolicy,
    now: datetime,
    title: str | None = None,
    playbook: str | None = None,
    owner: str | None = None,
) -> Case:
    """Open a case for these findings.

    Severity is the highest of the findings; the unit is their common unit (the lowest common
    ancestor when they differ); due_at = now + the phase's response time for that severity; the
    playbook, when not given, is the one suggested for the most severe finding that has one
    (rule and tags, then ATT&CK tactic, then capability), and its steps are copied into the
    case; when none fits and none is given, PlaybookNeeded is raised and nothing changes (the
    officer is asked to choose: a case is never opened without its steps by accident). The
    owner, when not given, is the escalating officer if they may work cases.
    The findings get status 'escalated' and point at the case.
    """
    actor.require(Permission.TRIAGE)
    ids = _ids(finding_ids, "finding to escalate")
    rows = [_finding(session, actor, i) for i in ids]
    for row in rows:
        _require_open(row, "escalate")
    now = to_utc(now)
    worst = sorted(rows, key=lambda r: (-r.severity, -r.last_seen.timestamp(), -r.id))
    severity = Severity(worst[0].severity)
    unit = lowest_common_unit(unit_tree(session), (r.unit for r in rows))
    chosen: Playbook
    if playbook:
        chosen = get_playbook(playbook)
    else:
        playbooks = load_playbooks()
        suggested = suggest_for(worst, playbooks)
        if suggested is None:
            raise PlaybookNeeded("no playbook fits the selected alerts: choose one from the list")
        chosen = playbooks[suggested]
    if title is None or not title.strip():
        title = worst[0].title if len(rows) == 1 else f"{worst[0].title} (+{len(rows) - 1})"
    if owner is None and actor.user_id is not None and actor.can(Permission.MANAGE_CASES):
        owner = actor.username  # the escalating officer owns the case unless another is named
    case = open_case(
        session,
        actor,
        title=title[:300],
        unit=unit,
        severity=severity,
        due_at=now + policy.response_time(severity),
        now=now,
        playbook=chosen,
        owner=owner,
        detail={"phase": policy.phase.value, "findings": [r.id for r in worst]},
    )
    for row in worst:
        row.case_id = case.id
        row.status = FindingStatus.ESCALATED.value
        row.status_reason = f"case {case.number}"
        row.updated_at = now
        record_event(
            session,
            case,
            actor,
            EventKind.ESCALATED,
            row.title,
            {
                "finding": row.id,
                "capability": row.capability,
                "rule": row.rule,
                "severity": Severity(row.severity).label,
                "unit": row.unit,
            },
            now,
        )
    audit(
        session,
        actor,
        "finding.escalate",
        f"case:{case.number}",
        {
            "findings": [r.id for r in worst],
            "severity": severity.label,
            "due_at": case.due_at.isoformat(),
            "playbook": case.playbook,
            "owner": case.owner,
        },
        unit,
    )
    return case


def link_findings(
    session: Session,
    actor: Actor,
    case_id: int,
    finding_ids: list[int],
    now: datetime | None = None,
) -> list[FindingRow]:
    """Add open findings to an open case; its severity rises to the worst of them.

    The due time stays as it was: it was promised when the case was opened. Findings must lie in
    the case's unit or below it.
    """
    actor.require(Permission.TRIAGE)
    case = get_case(session, actor, case_id)
    if case.status == CaseStatus.CLOSED.value:
        raise ConflictError(f"case {case.number} is closed; reopen it to link findings")
    tree = unit_tree(session)
    rows = [_finding(session, actor, i) for i in _ids(finding_ids, "finding to link")]
    for row in rows:
        if row.case_id == case.id:
            raise ConflictError(f"finding {row.id} is already in case {case.number}")
        _require_open(row, "link")
        if not tree.in_scope(case.unit, row.unit):
            raise ValidationError(
                f"finding {row.id} of unit {row.unit} lies outside case unit {case.unit}"
            )
    at = to_utc(now) if now else utcnow()
    before = case.severity
    for row in rows:
        row.case_id = case.id
        row.status = FindingStatus.ESCALATED.value
        row.status_reason = f"case {case.number}"
        row.updated_at = at
        case.severity = max(case.severity, row.severity)
        record_event(
            session,
            case,
            actor,
            EventKind.FINDING_LINKED,
            row.title,
            {
                "finding": row.id,
                "capability": row.capability,
                "rule": row.rule,
                "severity": Severity(row.severity).label,
                "unit": row.unit,
            },
            at,
        )
    detail: dict[str, Any] = {"findings": [r.id for r in rows]}
    if case.severity != before:
        detail["severity"] = [Severity(before).label, Severity(case.severity).label]
    audit(session, actor, "case.link", f"case:{case.number}", detail, case.unit)
    return rows


def unlink_finding(
    session: Session, actor: Actor, case_id: int, finding_id: int, now: datetime | None = None
) -> FindingRow:
    """Take a finding out of a case (linked by mistake): it goes back to the queue, acknowledged."""
    actor.require(Permission.TRIAGE)
    case = get_case(session, actor, case_id)
    row = _finding(session, actor, finding_id)
    if row.case_id != case.id:
        raise ConflictError(f"finding {row.id} is not in case {case.number}")
    at = to_utc(now) if now else utcnow()
    row.case_id = None
    row.status = FindingStatus.ACKNOWLEDGED.value
    row.status_reason = f"removed from case {case.number}"
    row.updated_at = at
    record_event(
        session,
        case,
        actor,
        EventKind.NOTE,
        f"Finding {row.id} removed from the case",
        {"unlinked": row.id},
        at,
    )
    audit(session, actor, "case.unlink", f"case:{case.number}", {"finding": row.id}, case.unit)
    return row
