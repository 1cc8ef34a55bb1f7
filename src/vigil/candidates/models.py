"""The room's table: the latest check of each candidate (status and every mismatch).

The declarations themselves are in the lake (`ingest.DATASET`); a check writes one row per
candidate here, in the same transaction as its findings (`Detection.save_progress`), so the
list page reads statuses without running the check again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from vigil.store.base import Base


class CandidateCheckRow(Base):
    __tablename__ = "candidate_checks"

    candidate_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    unit: Mapped[str] = mapped_column(String(32), ForeignKey("units.code"))
    status: Mapped[str] = mapped_column(String(16))
    #: Personal data (names, IDs, dates, addresses): masked when shown, revealed with an audit.
    full_name: Mapped[str] = mapped_column(String(300))
    #: [{"field", "rule", "declared", "recorded", "reason"}], as checked.
    mismatches: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    person_id: Mapped[str | None] = mapped_column(String(64))
    method: Mapped[str | None] = mapped_column(String(32))
    probability: Mapped[float | None] = mapped_column(Float)
    checked_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_candidate_checks_unit_status", "unit", "status"),)
