"""Voter lists kept by the registry room: each list as built (who, when, for which voting day),
its entries as they were that day, and what it added and removed against the list before it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from vigil.core.clock import utcnow
from vigil.store.base import Base


class VoterList(Base):
    """One build of a commune's voter list; `version` counts the commune's lists from 1."""

    __tablename__ = "registry_voter_lists"
    __table_args__ = (Index("ix_registry_voter_lists_commune_version", "commune", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    commune: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    voting_day: Mapped[date] = mapped_column(Date)
    #: Born on or before this day: 18 or older on voting day.
    born_by: Mapped[date] = mapped_column(Date)
    built_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    built_by: Mapped[str] = mapped_column(String(64))
    #: How polling areas were assigned: "village" or the mapping file's name.
    areas_rule: Mapped[str] = mapped_column(String(200))
    voters: Mapped[int] = mapped_column(Integer)
    added: Mapped[int] = mapped_column(Integer)
    removed: Mapped[int] = mapped_column(Integer)
    previous_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class VoterEntry(Base):
    """A voter on one list, as the registry read on the day the list was built."""

    __tablename__ = "registry_voter_entries"

    list_id: Mapped[int] = mapped_column(
        ForeignKey("registry_voter_lists.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    polling_area: Mapped[str] = mapped_column(String(64))
    village: Mapped[str | None] = mapped_column(String(32), nullable=True)
    household_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    citizen_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    full_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    sex: Mapped[str | None] = mapped_column(String(16), nullable=True)
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)


class VoterChange(Base):
    """A person added to or removed from a list against the commune's list before it."""

    __tablename__ = "registry_voter_changes"

    list_id: Mapped[int] = mapped_column(
        ForeignKey("registry_voter_lists.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: "added", "removed" or "moved" (on both lists, in another polling area now).
    change: Mapped[str] = mapped_column(String(16))
    #: Why, as far as the registry tells: came_of_age, listed, moved_in (added); died,
    #: death_record, moved_away, delisted (removed); area_changed (moved).
    reason: Mapped[str] = mapped_column(String(32))
    polling_area: Mapped[str] = mapped_column(String(64))
