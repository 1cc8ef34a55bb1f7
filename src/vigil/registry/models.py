"""Registry tables: what the quality rules have checked, officers' decisions on proposed
duplicates, households marked reviewed, and the scorecard kept day by day (its trend)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vigil.core.clock import utcnow
from vigil.store.base import Base


class RegistryCheckedBatch(Base):
    """A lake batch the record rules have looked at (they skip it next time)."""

    __tablename__ = "registry_checked_batches"

    dataset: Mapped[str] = mapped_column(String(64), primary_key=True)
    batch: Mapped[str] = mapped_column(String(128), primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class RegistryPairDecision(Base):
    """An officer's decision on a proposed duplicate: `accepted` (one person) or `rejected`."""

    __tablename__ = "registry_pair_decisions"

    left: Mapped[str] = mapped_column(String(64), primary_key=True)
    right: Mapped[str] = mapped_column(String(64), primary_key=True)
    commune: Mapped[str] = mapped_column(String(32), index=True)
    decision: Mapped[str] = mapped_column(String(16))
    probability: Mapped[float] = mapped_column(Float)
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class RegistryHouseholdReview(Base):
    """A household an officer (or an imported review list) marked reviewed."""

    __tablename__ = "registry_household_reviews"

    household_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    commune: Mapped[str] = mapped_column(String(32), index=True)
    reviewed_by: Mapped[str] = mapped_column(String(64))
    reviewed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")


class RegistryScore(Base):
    """A commune's four scores on a day, for the scorecard's trend."""

    __tablename__ = "registry_scores"

    commune: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    persons: Mapped[int] = mapped_column(Integer)
    correct: Mapped[float] = mapped_column(Float)
    sufficient: Mapped[float] = mapped_column(Float)
    clean: Mapped[float] = mapped_column(Float)
    living: Mapped[float] = mapped_column(Float)
