"""Tables of the duty room: cases with their steps and timeline, duty shifts, handover notes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vigil.core.clock import utcnow
from vigil.store.base import Base
from vigil.store.models import FindingRow


class CaseStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


class EventKind(StrEnum):
    OPENED = "opened"
    ASSIGNED = "assigned"
    STEP_DONE = "step_done"
    STEP_NOT_APPLICABLE = "step_na"
    NOTE = "note"
    FINDING_LINKED = "finding_linked"
    STATUS = "status"
    ESCALATED = "escalated"
    CLOSED = "closed"
    REOPENED = "reopened"


class ShiftRole(StrEnum):
    LEAD = "lead"
    OFFICER = "officer"


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Human reference read out on the phone: VV-<year>-<sequence>.
    number: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    unit: Mapped[str] = mapped_column(String(32), ForeignKey("units.code"), index=True)
    severity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.OPEN.value)
    owner: Mapped[str | None] = mapped_column(String(64))
    playbook: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        # Overdue checks and the open-case list read (status, due_at) only.
        Index("ix_cases_status_due", "status", "due_at"),
        Index("ix_cases_closed_at", "closed_at"),
    )


class CaseStep(Base):
    """One playbook step copied into a case, so editing a playbook never rewrites history.

    A step is open until it is done or marked not applicable (`done_by`/`done_at` then say who
    settled it and when, and `not_applicable` holds the reason why it did not apply).
    """

    __tablename__ = "case_steps"

    case_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    title_en: Mapped[str] = mapped_column(String(300))
    title_vi: Mapped[str] = mapped_column(String(300))
    done_by: Mapped[str | None] = mapped_column(String(64))
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
    note: Mapped[str] = mapped_column(Text, default="")
    #: Positions of the earlier steps this one waits for (copied from the playbook's `after`).
    after: Mapped[list[int]] = mapped_column(JSON, default=list)
    #: Why the step did not apply to this case; None for a step done or still open.
    not_applicable: Mapped[str | None] = mapped_column(Text)

    @property
    def settled(self) -> bool:
        return self.done_at is not None

    @property
    def done(self) -> bool:
        return self.done_at is not None and self.not_applicable is None


class CaseEvent(Base):
    """The case timeline: every action on a case, in order."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(24))
    text: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class DutyShift(Base):
    __tablename__ = "duty_shifts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit: Mapped[str] = mapped_column(String(32), ForeignKey("units.code"))
    username: Mapped[str] = mapped_column(String(64), index=True)
    role_on_shift: Mapped[str] = mapped_column(String(16), default=ShiftRole.OFFICER.value)
    starts: Mapped[datetime] = mapped_column(DateTime)
    ends: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_duty_shifts_unit_starts", "unit", "starts"),)


class HandoverNote(Base):
    __tablename__ = "handover_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shift_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("duty_shifts.id", ondelete="SET NULL"), index=True
    )
    #: The duty room the note is for (the shift's unit, else the author's); scopes who reads it.
    unit: Mapped[str] = mapped_column(String(32), ForeignKey("units.code"))
    author: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    text: Mapped[str] = mapped_column(Text)


# The alert queue is this room's, and three of its questions need their own paths through the
# platform's findings table: "open alerts of one capability, worst first" (without it, a rare
# capability means walking every open alert), "findings first seen per day in my units" (the
# dashboard of an officer who sees only a few units) and "findings of one status, worst first".
Index(
    "ix_findings_capability_queue",
    FindingRow.capability,
    FindingRow.is_open,
    FindingRow.severity,
    FindingRow.last_seen,
)
Index("ix_findings_unit_first_seen", FindingRow.unit, FindingRow.first_seen)
Index(
    "ix_findings_status_queue",
    FindingRow.status,
    FindingRow.unit,
    FindingRow.severity,
    FindingRow.last_seen,
)
