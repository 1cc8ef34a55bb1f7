"""The duty roster: who watches the queue when, and where 24/7 coverage has holes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.cases.models import DutyShift, ShiftRole
from vigil.cases.scope import unit_tree, visible_units
from vigil.core.access import Actor, Permission, Role, grants, require_found
from vigil.core.clock import format_local, to_utc, utcnow
from vigil.core.errors import ConflictError, NotFoundError, ValidationError
from vigil.core.finding import FindingStatus
from vigil.store.audit import audit
from vigil.store.models import FindingRow, User

#: Longer shifts are refused: a 30-hour shift is a typing mistake, not a plan.
MAX_SHIFT = timedelta(hours=24)
CAPABILITY = "cases"
GAP_RULE = "duty-gap"


@dataclass(frozen=True)
class Gap:
    """A stretch of [start, end) with nobody on shift."""

    start: datetime
    end: datetime

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600


@dataclass(frozen=True)
class Hole:
    """A gap with its true edges: the end of the shift before and the start of the shift after.

    `start` / `end` are None when no shift exists before / after at all. `seen` is the part of
    the hole inside the window that was checked.
    """

    start: datetime | None
    end: datetime | None
    seen: Gap

    @property
    def subject(self) -> str:
        if self.start is None and self.end is None:
            return "(no shift on the roster)"
        left = format_local(self.start) if self.start else "…"
        right = format_local(self.end) if self.end else "…"
        return f"{left} → {right} (UTC+7)"


def _role(value: str) -> ShiftRole:
    try:
        return ShiftRole(value)
    except ValueError as e:
        raise ValidationError(f"role on shift must be 'lead' or 'officer', not {value!r}") from e


def _overlapping(session: Session, unit: str, start: datetime, end: datetime) -> list[DutyShift]:
    # Shifts are at most MAX_SHIFT long, so the lower bound keeps the index range short.
    q = (
        select(DutyShift)
        .where(
            DutyShift.unit == unit,
            DutyShift.starts < end,
            DutyShift.starts > start - MAX_SHIFT,
            DutyShift.ends > start,
        )
        .order_by(DutyShift.starts, DutyShift.id)
    )
    return list(session.scalars(q))


def add_shift(
    session: Session,
    actor: Actor,
    unit: str,
    username: str,
    starts: datetime,
    ends: datetime,
    role_on_shift: str = "officer",
) -> DutyShift:
    """Put an officer on shift for `unit` over [starts, ends).

    The officer must exist, be active, be able to triage alerts, and see `unit`; the actor needs
    Permission.MANAGE_DUTY over `unit` and the officer's own unit.
    """
    actor.require(Permission.MANAGE_DUTY)
    tree = unit_tree(session)
    if unit not in tree:
        raise ValidationError(f"unknown unit {unit!r}")
    actor.require_unit(unit)
    starts, ends = to_utc(starts), to_utc(ends)
    if ends <= starts:
        raise ValidationError("a shift must end after it starts")
    if ends - starts > MAX_SHIFT:
        raise ValidationError(
            "a shift may last at most %(hours)s hours",
            params={"hours": f"{MAX_SHIFT.total_seconds() / 3600:g}"},
        )
    role = _role(role_on_shift)
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        raise NotFoundError("no active user %(owner)r", params={"owner": username})
    actor.require_unit(user.unit)
    if Permission.TRIAGE not in grants(Role(user.role)):
        raise ValidationError(
            f"user {username!r} ({user.role}) cannot triage alerts, so cannot stand duty"
        )
    if not tree.in_scope(user.unit, unit):
        raise ValidationError(f"user {username!r} of unit {user.unit} does not see unit {unit}")
    clash = session.scalar(
        select(DutyShift.id).where(
            DutyShift.username == username, DutyShift.starts < ends, DutyShift.ends > starts
        )
    )
    if clash is not None:
        raise ConflictError(
            "%(user)s is already on shift %(shift)s at that time",
            params={"user": username, "shift": clash},
        )
    shift = DutyShift(
        unit=unit,
        username=username,
        role_on_shift=role.value,
        starts=starts,
        ends=ends,
        created_by=actor.username,
    )
    session.add(shift)
    session.flush()
    resolved = _resolve_filled_gaps(session, unit)
    audit(
        session,
        actor,
        "duty.shift.add",
        f"shift:{shift.id}",
        {
            "username": username,
            "role": role.value,
            "starts": starts.isoformat(),
            "ends": ends.isoformat(),
            "gap_findings_resolved": resolved,
        },
        unit,
    )
    return shift


def remove_shift(session: Session, actor: Actor, shift_id: int) -> None:
    actor.require(Permission.MANAGE_DUTY)
    shift = require_found(actor, session.get(DutyShift, shift_id), f"no shift {shift_id}")
    detail = {"username": shift.username, "starts": shift.starts.isoformat()}
    session.delete(shift)
    session.flush()
    audit(session, actor, "duty.shift.remove", f"shift:{shift_id}", detail, shift.unit)


def _resolve_filled_gaps(session: Session, unit: str) -> list[int]:
    """A duty-gap finding whose hole a shift now overlaps is out of date: resolve it.

    If part of the hole is still open, the next detector run reports the smaller hole anew.
    """
    rows = session.scalars(
        select(FindingRow).where(
            FindingRow.capability == CAPABILITY,
            FindingRow.rule == GAP_RULE,
            FindingRow.unit == unit,
            FindingRow.status.in_([FindingStatus.NEW.value, FindingStatus.ACKNOWLEDGED.value]),
        )
    ).all()
    resolved = []
    for row in rows:
        ev = row.evidence or {}
        try:
            start = datetime.fromisoformat(str(ev.get("start") or ev["checked_start"]))
            end = datetime.fromisoformat(str(ev.get("end") or ev["checked_end"]))
        except (KeyError, ValueError):
            continue
        if _overlapping(session, unit, start, end):
            row.status = FindingStatus.RESOLVED.value
            row.status_reason = "roster changed: shift added"
            row.updated_at = utcnow()
            resolved.append(row.id)
    return resolved


def roster(
    session: Session, actor: Actor, start: datetime, end: datetime, unit: str | None = None
) -> list[DutyShift]:
    """Shifts overlapping [start, end) in the actor's units (or in `unit` only), by start."""
    actor.require(Permission.VIEW)
    start, end = to_utc(start), to_utc(end)
    q = select(DutyShift).where(
        DutyShift.starts < end,
        DutyShift.starts > start - MAX_SHIFT,
        DutyShift.ends > start,
    )
    if unit is not None:
        actor.require_unit(unit)
        q = q.where(DutyShift.unit == unit)
    else:
        units = visible_units(session, actor)
        if units is not None:
            q = q.where(DutyShift.unit.in_(units))
    lead_first = sql_case((DutyShift.role_on_shift == ShiftRole.LEAD.value, 0), else_=1)
    q = q.order_by(DutyShift.starts, DutyShift.unit, lead_first, DutyShift.username)
    return list(session.scalars(q))


def coverage_gaps(session: Session, start: datetime, end: datetime, unit: str) -> list[Gap]:
    """Every stretch of [start, end) when nobody is on shift for `unit`; overlaps merge."""
    start, end = to_utc(start), to_utc(end)
    if end <= start:
        raise ValidationError("the window must end after it starts")
    gaps: list[Gap] = []
    cursor = start
    for shift in _overlapping(session, unit, start, end):
        if shift.starts > cursor:
            gaps.append(Gap(cursor, shift.starts))
        cursor = max(cursor, shift.ends)
        if cursor >= end:
            break
    if cursor < end:
        gaps.append(Gap(cursor, end))
    return gaps


def coverage_holes(session: Session, start: datetime, end: datetime, unit: str) -> list[Hole]:
    """The gaps of [start, end) with their true edges, so a hole names the same interval
    however the window moves (the detector's subject must not change from run to run)."""
    start, end = to_utc(start), to_utc(end)
    holes = []
    for gap in coverage_gaps(session, start, end, unit):
        left: datetime | None = gap.start
        right: datetime | None = gap.end
        if gap.start == start:
            left = session.scalar(
                select(func.max(DutyShift.ends)).where(
                    DutyShift.unit == unit, DutyShift.ends <= start
                )
            )
        if gap.end == end:
            right = session.scalar(
                select(func.min(DutyShift.starts)).where(
                    DutyShift.unit == unit, DutyShift.starts >= end
                )
            )
        holes.append(Hole(left, right, gap))
    return holes


def on_duty(session: Session, unit: str, now: datetime) -> list[DutyShift]:
    """Everyone on shift for `unit` at `now`, the lead first."""
    now = to_utc(now)
    shifts = _overlapping(session, unit, now, now + timedelta(microseconds=1))
    return sorted(shifts, key=lambda s: (s.role_on_shift != ShiftRole.LEAD.value, s.starts, s.id))


def current_shift(session: Session, unit: str, now: datetime) -> DutyShift | None:
    """The shift in charge of `unit` at `now`: its lead's, else the earliest started one."""
    shifts = on_duty(session, unit, now)
    return shifts[0] if shifts else None
