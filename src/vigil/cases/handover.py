"""Shift handover: what came in, what is still open, what is late, what the outgoing shift says."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.cases.duty import on_duty
from vigil.cases.models import Case, CaseStatus, DutyShift, HandoverNote
from vigil.cases.queue import AlertFilter, alert_queue
from vigil.cases.scope import root_unit, unit_tree, visible_units
from vigil.cases.service import list_cases
from vigil.core.access import Actor, Permission, require_found
from vigil.core.calendar import Phase, PhasePolicy
from vigil.core.clock import to_utc, utcnow
from vigil.core.errors import ValidationError
from vigil.core.severity import Severity
from vigil.store.audit import audit
from vigil.store.models import FindingRow

#: Rows per list in a handover; totals tell when there were more.
HANDOVER_LIMIT = 200
MAX_NOTE = 10_000
_JUST_BEFORE = timedelta(microseconds=1)


@dataclass
class Handover:
    unit: str
    shift_start: datetime
    shift_end: datetime
    outgoing: str
    incoming: str | None
    #: Alerts first seen during the shift (at or above the threshold, in scope), worst first.
    came_in: list[FindingRow]
    open_alerts: list[FindingRow]
    open_cases: list[Case]
    overdue_cases: list[Case]
    #: Cases closed during the shift.
    closed_cases: list[Case]
    notes: list[HandoverNote]
    phase: Phase
    threshold: Severity = Severity.MEDIUM
    came_in_total: int = 0
    open_alerts_total: int = 0
    open_alerts_capped: bool = False
    generated_at: datetime = field(default_factory=utcnow)


def _duty_unit(session: Session, actor: Actor) -> str:
    """The duty room the actor belongs to: its own unit, or the province for system actors."""
    return actor.unit if actor.unit in unit_tree(session) else root_unit(session)


def _lead(shifts: list[DutyShift]) -> str | None:
    return shifts[0].username if shifts else None


def build_handover(
    session: Session,
    actor: Actor,
    policy: PhasePolicy,
    start: datetime,
    end: datetime,
    now: datetime,
    limit: int = HANDOVER_LIMIT,
) -> Handover:
    """The handover of the shift [start, end) as the actor sees it.

    Outgoing is whoever led the roster at the end of the window (the actor when nobody was
    rostered); incoming is whoever leads it from `end` on.
    """
    actor.require(Permission.VIEW)
    start, end, now = to_utc(start), to_utc(end), to_utc(now)
    if end <= start:
        raise ValidationError("the shift must end after it starts")
    unit = _duty_unit(session, actor)
    outgoing = _lead(on_duty(session, unit, end - _JUST_BEFORE)) or actor.username
    incoming = _lead(on_duty(session, unit, end))
    threshold = policy.alert_threshold
    units = visible_units(session, actor)

    came = select(FindingRow).where(
        FindingRow.first_seen >= start,
        FindingRow.first_seen < end,
        FindingRow.severity >= int(threshold),
    )
    if units is not None:
        came = came.where(FindingRow.unit.in_(units))
    came_total = session.scalar(select(func.count()).select_from(came.subquery())) or 0
    came_in = list(
        session.scalars(
            came.order_by(
                FindingRow.severity.desc(), FindingRow.first_seen.desc(), FindingRow.id.desc()
            ).limit(limit)
        )
    )
    page = alert_queue(session, actor, policy, AlertFilter(per_page=min(limit, 500)))

    closed = select(Case).where(
        Case.status == CaseStatus.CLOSED.value, Case.closed_at >= start, Case.closed_at < end
    )
    notes = select(HandoverNote).where(HandoverNote.at >= start, HandoverNote.at < end)
    if units is not None:
        closed = closed.where(Case.unit.in_(units))
        notes = notes.where(HandoverNote.unit.in_(units))
    return Handover(
        unit=unit,
        shift_start=start,
        shift_end=end,
        outgoing=outgoing,
        incoming=incoming,
        came_in=came_in,
        open_alerts=page.items,
        open_cases=list_cases(session, actor, status="active", limit=limit),
        overdue_cases=list_cases(session, actor, overdue_at=now, limit=limit),
        closed_cases=list(session.scalars(closed.order_by(Case.closed_at, Case.id).limit(limit))),
        notes=list(session.scalars(notes.order_by(HandoverNote.at, HandoverNote.id))),
        phase=policy.phase,
        threshold=threshold,
        came_in_total=int(came_total),
        open_alerts_total=page.total,
        open_alerts_capped=page.total_capped,
        generated_at=now,
    )


def add_handover_note(
    session: Session,
    actor: Actor,
    text: str,
    shift_id: int | None = None,
    now: datetime | None = None,
) -> HandoverNote:
    """A note from the outgoing shift to the next one, for the shift's duty room."""
    actor.require(Permission.MANAGE_DUTY)
    text = (text or "").strip()
    if not text:
        raise ValidationError("a handover note must not be empty")
    if len(text) > MAX_NOTE:
        raise ValidationError(f"a handover note may have at most {MAX_NOTE} characters")
    if shift_id is not None:
        shift = require_found(actor, session.get(DutyShift, shift_id), f"no shift {shift_id}")
        unit = shift.unit
    else:
        unit = _duty_unit(session, actor)
    actor.require_unit(unit)
    note = HandoverNote(
        shift_id=shift_id,
        unit=unit,
        author=actor.username,
        at=to_utc(now) if now else utcnow(),
        text=text,
    )
    session.add(note)
    session.flush()
    audit(
        session, actor, "duty.handover_note", f"handover_note:{note.id}", {"shift": shift_id}, unit
    )
    return note
