"""Platform tables: units, users, findings and their occurrences, the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from vigil.core.clock import utcnow
from vigil.store.base import Base

#: Must match vigil.core.finding.OPEN_STATUSES; a generated column keeps the queue index small.
OPEN_SQL = "status IN ('new', 'acknowledged')"

IdType = BigInteger().with_variant(Integer(), "sqlite")


class UnitRow(Base):
    __tablename__ = "units"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    parent: Mapped[str | None] = mapped_column(String(32), ForeignKey("units.code"), index=True)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(24))
    unit: Mapped[str] = mapped_column(String(32), ForeignKey("units.code"))
    lang: Mapped[str] = mapped_column(String(5), default="vi")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class WebSession(Base):
    """A login on the web: the cookie holds a random id, the table its hash; a session ends
    when its row is gone (logout, password change, disabled account, ended by an admin)."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen: Mapped[datetime] = mapped_column(DateTime)
    ip: Mapped[str | None] = mapped_column(String(64))


class FindingRow(Base):
    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    fingerprint: Mapped[str] = mapped_column(String(32), unique=True)
    capability: Mapped[str] = mapped_column(String(32))
    rule: Mapped[str] = mapped_column(String(200))
    severity: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(500))
    title: Mapped[str] = mapped_column(String(500))
    title_vi: Mapped[str] = mapped_column(String(500), default="")
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    first_seen: Mapped[datetime] = mapped_column(DateTime)
    last_seen: Mapped[datetime] = mapped_column(DateTime)
    count: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="new")
    is_open: Mapped[bool] = mapped_column(Boolean, Computed(OPEN_SQL, persisted=True))
    status_reason: Mapped[str] = mapped_column(Text, default="")
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)  # cases.id, owned by cases/
    merged_into: Mapped[int | None] = mapped_column(IdType, ForeignKey("findings.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        # The alert queue walks this index in order and stops at the page size.
        Index("ix_findings_queue", "is_open", "severity", "last_seen"),
        Index("ix_findings_unit_queue", "unit", "is_open", "severity", "last_seen"),
        Index("ix_findings_first_seen", "first_seen"),
    )


class FindingOccurrence(Base):
    """One underlying observation of a finding; the count is the number of distinct keys."""

    __tablename__ = "finding_occurrences"

    finding_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("findings.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(DateTime)


class AuditEntry(Base):
    """Append-only (triggers refuse UPDATE and DELETE); each row chains the previous hash."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(24))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str | None] = mapped_column(String(32))
    ip: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class IndicatorRow(Base):
    """An indicator of compromise (vigil.core.indicators); one row per kind + value + source."""

    __tablename__ = "indicators"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(1000))
    source: Mapped[str] = mapped_column(String(200), index=True)
    confidence: Mapped[int] = mapped_column(Integer, default=50)
    valid_from: Mapped[datetime | None] = mapped_column(DateTime)
    valid_until: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    external_id: Mapped[str] = mapped_column(String(200), default="")
    exclude: Mapped[str] = mapped_column(String(1000), default="")
    first_seen: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("kind", "value", "source"),)
