"""Tables of the inspection room: inspections, answers to controls, evidence, remediation items.

The control catalog itself is a file (YAML, shaped like OSCAL), not a table: an inspection keeps
the catalog version and profile it was planned against, and each answer keeps its control id.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vigil.core.clock import utcnow
from vigil.store.base import Base


class InspectionStatus(StrEnum):
    PLANNED = "planned"  # answers and evidence may still change
    CLOSED = "closed"  # scored for good; failed controls have remediation items


class AnswerStatus(StrEnum):
    PASS = "pass"  # noqa: S105 (a control's result, not a password)
    PARTIAL = "partial"
    FAIL = "fail"
    NOT_APPLICABLE = "na"
    UNANSWERED = "unanswered"


class RemediationStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


class Inspection(Base):
    __tablename__ = "inspect_inspections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit: Mapped[str] = mapped_column(String(32), ForeignKey("units.code"), index=True)
    profile: Mapped[str] = mapped_column(String(64))
    catalog_version: Mapped[str] = mapped_column(String(32))
    inspector: Mapped[str] = mapped_column(String(64))
    planned_for: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), default=InspectionStatus.PLANNED.value)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: The scorecard at closing (overall 0-100, level attained); None while planned.
    score: Mapped[float | None] = mapped_column(Float)
    level: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (Index("ix_inspect_inspections_unit_closed", "unit", "closed_at"),)


class Answer(Base):
    """The result of one control in one inspection: who or which check said so, and why."""

    __tablename__ = "inspect_answers"

    inspection_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("inspect_inspections.id", ondelete="CASCADE"), primary_key=True
    )
    control: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    #: "form", "checklist" or "check:<kind>" (an automated evidence check).
    source: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    answered_by: Mapped[str] = mapped_column(String(64))
    answered_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Evidence(Base):
    """A file attached to an inspection, kept by content hash, with what its check concluded."""

    __tablename__ = "inspect_evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inspection_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("inspect_inspections.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(24))
    filename: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    stored: Mapped[str] = mapped_column(String(500))
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RemediationItem(Base):
    """What a unit must fix after a failed control, by whom and by when (plan of action)."""

    __tablename__ = "inspect_remediation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inspection_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("inspect_inspections.id", ondelete="CASCADE"), index=True
    )
    unit: Mapped[str] = mapped_column(String(32), ForeignKey("units.code"))
    control: Mapped[str] = mapped_column(String(32))
    owner: Mapped[str] = mapped_column(String(120))
    due_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), default=RemediationStatus.OPEN.value)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    note: Mapped[str] = mapped_column(Text, default="")

    # As the duty room keeps its cases: the overdue question reads (status, due_at) only.
    __table_args__ = (Index("ix_inspect_remediation_status_due", "status", "due_at"),)
