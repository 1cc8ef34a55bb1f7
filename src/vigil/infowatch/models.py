"""The information watch's tables: the watchlist, the fact sheet, scanned batches, advisories."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from vigil.core.clock import utcnow
from vigil.store.base import Base


class WatchedItem(Base):
    """An official domain, account or page to protect, and who owns it."""

    __tablename__ = "infowatch_watchlist"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_infowatch_watchlist_kind_value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # domain | account | page
    value: Mapped[str] = mapped_column(String(300))
    platform: Mapped[str] = mapped_column(String(40), default="")
    #: The name the official account or page shows (impersonators copy it).
    name: Mapped[str] = mapped_column(String(300), default="")
    owner: Mapped[str] = mapped_column(String(300))
    #: Perceptual hash (hex) of the official profile picture, if known.
    image_hash: Mapped[str] = mapped_column(String(64), default="")
    #: Where the entry comes from: "reference" (the shipped list), "province", an officer.
    source: Mapped[str] = mapped_column(String(100), default="")
    added_by: Mapped[str] = mapped_column(String(100), default="")
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Fact(Base):
    """An official fact and the false claims seen about it (`vigil infowatch facts import`)."""

    __tablename__ = "infowatch_facts"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(8), default="vi")
    claims: Mapped[list[str]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ScannedBatch(Base):
    """A lake batch of posts the content detectors have already read."""

    __tablename__ = "infowatch_scans"

    batch: Mapped[str] = mapped_column(String(128), primary_key=True)
    scanned_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    posts: Mapped[int] = mapped_column(Integer, default=0)


class Advisory(Base):
    """Official information or a scam warning, in Vietnamese and English, answering findings.

    Written by one officer, approved by another (two-person rule), then published.
    """

    __tablename__ = "infowatch_advisories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # warning | information
    unit: Mapped[str] = mapped_column(String(32))
    title_vi: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    body_vi: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    finding_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft|approved|withdrawn
    author: Mapped[str] = mapped_column(String(100))
    approver: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
