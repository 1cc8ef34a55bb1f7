"""Cases: open, read, assign, work through the playbook steps, note, change status, close.

Reads need Permission.VIEW, writes Permission.MANAGE_CASES; both need the case's unit in the
actor's scope. Every write adds a timeline event and an audit entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from vigil.cases.models import Case, CaseEvent, CaseStatus, CaseStep, EventKind
from vigil.cases.playbooks import Playbook, get_playbook
from vigil.cases.scope import unit_tree, visible_units
from vigil.core.access import Actor, Permission, Role, grants, require_found, storable_id
from vigil.core.calendar import PhasePolicy
from vigil.core.clock import to_local, to_utc, utcnow
from vigil.core.errors import (
    ConflictError,
    NotFoundError,
    PermissionDenied,
    Term,
    ValidationError,
)
from vigil.core.finding import FindingStatus
from vigil.core.severity import Severity
from vigil.store.audit import audit
from vigil.store.models import FindingRow, User

NUMBER_PREFIX = "VV"  # "vụ việc": the word officers use for a case
MAX_TITLE = 300
MAX_TEXT = 10_000
OVERDUE_RULE = "case-overdue"
_NUMBER_LOCK = 0x5649_4749  # "VIGI": an arbitrary advisory-lock key for case numbering


def _now(now: datetime | None) -> datetime:
    return to_utc(now) if now is not None else utcnow()


def _text(value: str, what: str, limit: int = MAX_TEXT) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError(f"{what} must not be empty")
    if len(value) > limit:
        raise ValidationError(f"{what} is longer than {limit} characters")
    return value


def record_event(
    session: Session,
    case: Case,
    actor: Actor,
    kind: EventKind,
    text: str = "",
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> CaseEvent:
    event = CaseEvent(
        case_id=case.id,
        at=_now(at),
        actor=actor.username,
        kind=kind.value,
        text=text,
        detail=detail or {},
    )
    session.add(event)
    session.flush()
    return event


def next_case_number(session: Session, when: datetime) -> str:
    """VV-<local year>-<sequence>; sequences restart each year and never reuse a number."""
    prefix = f"{NUMBER_PREFIX}-{to_local(when).year}-"
    if session.get_bind().dialect.name == "postgresql":
        # Two officers escalating at once must not both take the next number; SQLite's
        # BEGIN IMMEDIATE already serialises writers, PostgreSQL needs a lock until commit.
        session.execute(sql_text("SELECT pg_advisory_xact_lock(:key)"), {"key": _NUMBER_LOCK})
    last = session.scalar(
        select(Case.number)
        .where(Case.number.like(f"{prefix}%"))
        .order_by(func.length(Case.number).desc(), Case.number.desc())
        .limit(1)
    )
    seq = int(last.removeprefix(prefix)) + 1 if last else 1
    return f"{prefix}{seq:04d}"


def check_owner(session: Session, owner: str, unit: str) -> User:
    """The user a case is given to must exist, be active, work cases and see the case's unit."""
    user = session.scalar(select(User).where(User.username == owner))
    if user is None or not user.active:
        raise NotFoundError("no active user %(owner)r", params={"owner": owner})
    if Permission.MANAGE_CASES not in grants(Role(user.role)):
        raise ValidationError(
            "user %(owner)r (%(role)s) may not work cases",
            params={"owner": owner, "role": Term(user.role)},
        )
    if not unit_tree(session).in_scope(user.unit, unit):
        raise PermissionDenied(f"unit {unit} is outside the scope of {owner} ({user.unit})")
    return user


def case_officers(session: Session, unit: str) -> list[User]:
    """Who a case of `unit` may be given to: active officers who work cases and see the unit
    (the owner is picked from this list, never typed)."""
    tree = unit_tree(session)
    users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.username))
    return [
        u
        for u in users
        if Permission.MANAGE_CASES in grants(Role(u.role)) and tree.in_scope(u.unit, unit)
    ]


def open_case(
    session: Session,
    actor: Actor,
    *,
    title: str,
    unit: str,
    severity: Severity,
    due_at: datetime,
    now: datetime,
    playbook: Playbook | None = None,
    owner: str | None = None,
    detail: dict[str, Any] | None = None,
) -> Case:
    """Create a case with its playbook steps and the 'opened' event (callers check permissions)."""
    actor.require_unit(unit)
    now = to_utc(now)
    if owner:
        check_owner(session, owner, unit)
    case = Case(
        number=next_case_number(session, now),
        title=_text(title, "title", MAX_TITLE),
        unit=unit,
        severity=int(severity),
        status=CaseStatus.OPEN.value,
        owner=owner or None,
        playbook=playbook.key if playbook else None,
        created_at=now,
        due_at=to_utc(due_at),
        closed_at=None,
        created_by=actor.username,
        summary="",
    )
    session.add(case)
    session.flush()
    for position, step in enumerate(playbook.steps if playbook else [], start=1):
        session.add(
            CaseStep(
                case_id=case.id,
                position=position,
                title_en=step.title_en,
                title_vi=step.title_vi,
                done_by=None,
                done_at=None,
                note="",
                after=list(step.after),
                not_applicable=None,
            )
        )
    record_event(
        session,
        case,
        actor,
        EventKind.OPENED,
        case.title,
        {
            "severity": Severity(case.severity).label,
            "due_at": case.due_at.isoformat(),
            "playbook": case.playbook,
            **(detail or {}),
        },
        at=now,
    )
    if owner:
        record_event(session, case, actor, EventKind.ASSIGNED, owner, {"owner": owner}, at=now)
    return case


def create_case(
    session: Session,
    actor: Actor,
    title: str,
    unit: str,
    severity: Severity | str,
    policy: PhasePolicy,
    now: datetime,
    playbook: str | None = None,
    owner: str | None = None,
) -> Case:
    """A case opened by hand, with no finding behind it yet (an incident reported by phone)."""
    actor.require(Permission.MANAGE_CASES)
    if unit not in unit_tree(session):
        raise ValidationError(f"unknown unit {unit!r}")
    sev = Severity.parse(severity)
    now = to_utc(now)
    case = open_case(
        session,
        actor,
        title=title,
        unit=unit,
        severity=sev,
        due_at=now + policy.response_time(sev),
        now=now,
        playbook=get_playbook(playbook) if playbook else None,
        owner=owner,
        detail={"phase": policy.phase.value, "source": "manual"},
    )
    audit(
        session,
        actor,
        "case.open",
        f"case:{case.number}",
        {"severity": sev.label, "playbook": case.playbook, "owner": case.owner},
        unit=unit,
    )
    return case


# --- reads ---------------------------------------------------------------------------------------


def get_case(session: Session, actor: Actor, case_id: int) -> Case:
    actor.require(Permission.VIEW)
    case = session.get(Case, storable_id(case_id))
    return require_found(actor, case, f"no case {case_id}")


def find_case(session: Session, actor: Actor, ref: str | int) -> Case:
    """A case by number ('VV-2026-0001') or by id."""
    if isinstance(ref, int) or str(ref).isdigit():
        return get_case(session, actor, int(ref))
    case_id = session.scalar(select(Case.id).where(Case.number == str(ref).strip().upper()))
    try:
        return get_case(session, actor, case_id if case_id is not None else 0)
    except NotFoundError as e:  # the same words whether absent or outside the actor's units
        raise NotFoundError(f"no case {ref}") from e


def list_cases(
    session: Session,
    actor: Actor,
    status: str | None = None,
    overdue_at: datetime | None = None,
    limit: int | None = None,
) -> list[Case]:
    """Cases the actor sees: not-closed first, then worst and soonest due first.

    `status` is one case status, or 'active' for every status but closed; `overdue_at` keeps only
    cases still not closed whose due time is before it.
    """
    actor.require(Permission.VIEW)
    q = select(Case)
    units = visible_units(session, actor)
    if units is not None:
        q = q.where(Case.unit.in_(units))
    if status == "active":
        q = q.where(Case.status != CaseStatus.CLOSED.value)
    elif status is not None:
        q = q.where(Case.status == _status(status).value)
    if overdue_at is not None:
        q = q.where(Case.status != CaseStatus.CLOSED.value, Case.due_at < to_utc(overdue_at))
    q = q.order_by(
        sql_case((Case.status == CaseStatus.CLOSED.value, 1), else_=0),
        Case.severity.desc(),
        Case.due_at,
        Case.id,
    )
    if limit:
        q = q.limit(limit)
    return list(session.scalars(q))


def case_findings(session: Session, actor: Actor, case_id: int) -> list[FindingRow]:
    case = get_case(session, actor, case_id)
    q = (
        select(FindingRow)
        .where(FindingRow.case_id == case.id)
        .order_by(FindingRow.severity.desc(), FindingRow.last_seen.desc(), FindingRow.id.desc())
    )
    return list(session.scalars(q))


def case_timeline(session: Session, actor: Actor, case_id: int) -> list[CaseEvent]:
    case = get_case(session, actor, case_id)
    q = select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.at, CaseEvent.id)
    return list(session.scalars(q))


def case_steps(session: Session, actor: Actor, case_id: int) -> list[CaseStep]:
    case = get_case(session, actor, case_id)
    q = select(CaseStep).where(CaseStep.case_id == case.id).order_by(CaseStep.position)
    return list(session.scalars(q))


def overdue_cases(session: Session, now: datetime) -> list[Case]:
    """Every case not closed and past its due time (no scope: detectors and reports use it)."""
    q = (
        select(Case)
        .where(Case.status != CaseStatus.CLOSED.value, Case.due_at < to_utc(now))
        .order_by(Case.due_at, Case.id)
    )
    return list(session.scalars(q))


# --- writes --------------------------------------------------------------------------------------


def _writable(session: Session, actor: Actor, case_id: int) -> Case:
    actor.require(Permission.MANAGE_CASES)
    return get_case(session, actor, case_id)


def _not_closed(case: Case) -> None:
    if case.status == CaseStatus.CLOSED.value:
        raise ConflictError(
            "case %(case)s is closed; reopen it first", params={"case": case.number}
        )


def _status(value: str) -> CaseStatus:
    try:
        return CaseStatus(value)
    except ValueError as e:
        known = ", ".join(s.value for s in CaseStatus)
        raise ValidationError(f"unknown case status {value!r}; known: {known}") from e


def assign_case(
    session: Session, actor: Actor, case_id: int, owner: str, now: datetime | None = None
) -> Case:
    case = _writable(session, actor, case_id)
    _not_closed(case)
    owner = owner.strip()
    check_owner(session, owner, case.unit)
    if case.owner == owner:
        raise ConflictError(
            "case %(case)s is already assigned to %(owner)s",
            params={"case": case.number, "owner": owner},
        )
    previous = case.owner
    case.owner = owner
    record_event(
        session, case, actor, EventKind.ASSIGNED, owner, {"owner": owner, "previous": previous}, now
    )
    audit(session, actor, "case.assign", f"case:{case.number}", {"owner": owner}, unit=case.unit)
    return case


def _set_status(
    session: Session, case: Case, actor: Actor, status: CaseStatus, now: datetime
) -> None:
    previous = case.status
    case.status = status.value
    record_event(
        session,
        case,
        actor,
        EventKind.STATUS,
        status.value,
        {"from": previous, "to": status.value},
        now,
    )


def _open_step(session: Session, case: Case, position: int) -> CaseStep:
    step = session.get(CaseStep, (case.id, position))
    if step is None:
        raise NotFoundError(
            "case %(case)s has no step %(position)s",
            params={"case": case.number, "position": position},
        )
    if step.done_at is not None:
        raise ConflictError(
            "step %(position)s of case %(case)s was already settled by %(by)s",
            params={"position": position, "case": case.number, "by": step.done_by},
        )
    return step


def waiting_for(session: Session, case: Case, step: CaseStep) -> list[int]:
    """The earlier steps `step` waits for that are neither done nor marked not applicable."""
    if not step.after:
        return []
    settled = set(
        session.scalars(
            select(CaseStep.position).where(
                CaseStep.case_id == case.id,
                CaseStep.position.in_(step.after),
                CaseStep.done_at.is_not(None),
            )
        )
    )
    return [p for p in step.after if p not in settled]


def complete_step(
    session: Session,
    actor: Actor,
    case_id: int,
    position: int,
    note: str = "",
    now: datetime | None = None,
) -> CaseStep:
    """Mark one playbook step done; the first step done puts an open case in progress.

    A step that waits for earlier ones (its playbook's `after`) cannot be done before each of
    them is done or marked not applicable: ConflictError naming the steps still awaited.
    """
    case = _writable(session, actor, case_id)
    _not_closed(case)
    step = _open_step(session, case, position)
    waiting = waiting_for(session, case, step)
    if waiting:
        raise ConflictError(
            "step %(position)s waits for step %(waiting)s: do that first or mark it not applicable",
            params={"position": position, "waiting": ", ".join(map(str, waiting))},
        )
    at = _now(now)
    step.done_by, step.done_at, step.note = actor.username, at, (note or "").strip()
    if case.status == CaseStatus.OPEN.value:
        _set_status(session, case, actor, CaseStatus.IN_PROGRESS, at)
    record_event(
        session,
        case,
        actor,
        EventKind.STEP_DONE,
        step.note,
        {"position": position, "title_en": step.title_en, "title_vi": step.title_vi},
        at,
    )
    audit(
        session, actor, "case.step", f"case:{case.number}", {"position": position}, unit=case.unit
    )
    return step


def mark_step_not_applicable(
    session: Session,
    actor: Actor,
    case_id: int,
    position: int,
    reason: str,
    now: datetime | None = None,
) -> CaseStep:
    """Settle an open step as not applicable to this case, with the reason why (required).

    The step counts as settled: a step waiting for it may then be done, and the case may close.
    It does not count as done. Written to the timeline and the audit log with its reason.
    """
    case = _writable(session, actor, case_id)
    _not_closed(case)
    step = _open_step(session, case, position)
    reason = _text(reason, "the reason a step does not apply", MAX_TEXT)
    at = _now(now)
    step.done_by, step.done_at, step.not_applicable = actor.username, at, reason
    record_event(
        session,
        case,
        actor,
        EventKind.STEP_NOT_APPLICABLE,
        reason,
        {"position": position, "title_en": step.title_en, "title_vi": step.title_vi},
        at,
    )
    audit(
        session,
        actor,
        "case.step_not_applicable",
        f"case:{case.number}",
        {"position": position, "reason": reason},
        unit=case.unit,
    )
    return step


def add_case_note(
    session: Session, actor: Actor, case_id: int, text: str, now: datetime | None = None
) -> CaseEvent:
    """Notes are allowed on closed cases too: after-action findings belong on the timeline."""
    case = _writable(session, actor, case_id)
    event = record_event(session, case, actor, EventKind.NOTE, _text(text, "note"), {}, now)
    audit(session, actor, "case.note", f"case:{case.number}", {"event": event.id}, unit=case.unit)
    return event


def _linked(session: Session, case: Case, status: FindingStatus) -> Sequence[FindingRow]:
    q = select(FindingRow).where(FindingRow.case_id == case.id, FindingRow.status == status.value)
    return session.scalars(q).all()


def set_case_status(
    session: Session, actor: Actor, case_id: int, status: str, now: datetime
) -> Case:
    """Move between open and in progress, or reopen a closed case; closing goes via close_case."""
    case = _writable(session, actor, case_id)
    target = _status(status)
    if target is CaseStatus.CLOSED:
        raise ValidationError("closing a case needs a summary: use close_case")
    if case.status == target.value:
        raise ConflictError(
            "case %(case)s is already %(status)s",
            params={"case": case.number, "status": Term(target.value)},
        )
    now = to_utc(now)
    if case.status == CaseStatus.CLOSED.value:
        reopened = _linked(session, case, FindingStatus.RESOLVED)
        for row in reopened:
            row.status, row.status_reason, row.updated_at = FindingStatus.ESCALATED.value, "", now
        case.closed_at = None
        case.status = target.value
        record_event(
            session,
            case,
            actor,
            EventKind.REOPENED,
            "",
            {"to": target.value, "findings": [r.id for r in reopened]},
            now,
        )
        audit(session, actor, "case.reopen", f"case:{case.number}", {"to": target.value}, case.unit)
        return case
    _set_status(session, case, actor, target, now)
    audit(
        session, actor, "case.status", f"case:{case.number}", {"to": target.value}, unit=case.unit
    )
    return case


def open_steps(session: Session, case: Case) -> list[int]:
    """Positions of the case's steps neither done nor marked not applicable."""
    q = select(CaseStep.position).where(CaseStep.case_id == case.id, CaseStep.done_at.is_(None))
    return list(session.scalars(q.order_by(CaseStep.position)))


def close_case(session: Session, actor: Actor, case_id: int, summary: str, now: datetime) -> Case:
    """Close with a summary; the case's findings and its overdue finding become resolved.

    A case closes only when every playbook step is settled: done, or marked not applicable with
    a reason (mark_step_not_applicable); otherwise ConflictError naming the open steps, and
    nothing changes. A resolved finding that fires again reopens by itself
    (vigil.store.findings), so closing never hides a repeat.
    """
    case = _writable(session, actor, case_id)
    _not_closed(case)
    summary = _text(summary, "summary")
    still_open = open_steps(session, case)
    if still_open:
        raise ConflictError(
            "case %(case)s still has open steps (%(steps)s): do each one or mark it not "
            "applicable with a reason before closing",
            params={"case": case.number, "steps": ", ".join(map(str, still_open))},
        )
    now = to_utc(now)
    resolved = list(_linked(session, case, FindingStatus.ESCALATED))
    overdue = session.scalars(
        select(FindingRow).where(
            FindingRow.capability == "cases",
            FindingRow.rule == OVERDUE_RULE,
            FindingRow.subject == case.number,
            FindingRow.is_open.is_(True),
        )
    ).all()
    for row in [*resolved, *overdue]:
        row.status = FindingStatus.RESOLVED.value
        row.status_reason = f"case {case.number} closed"
        row.updated_at = now
    not_applicable = session.scalar(
        select(func.count())
        .select_from(CaseStep)
        .where(CaseStep.case_id == case.id, CaseStep.not_applicable.is_not(None))
    )
    case.status, case.closed_at, case.summary = CaseStatus.CLOSED.value, now, summary
    record_event(
        session,
        case,
        actor,
        EventKind.CLOSED,
        summary,
        {
            "findings_resolved": [r.id for r in resolved],
            "steps_not_applicable": int(not_applicable or 0),
            "late": now > case.due_at,
        },
        now,
    )
    audit(
        session,
        actor,
        "case.close",
        f"case:{case.number}",
        {"findings_resolved": len(resolved), "late": now > case.due_at},
        unit=case.unit,
    )
    return case
