"""Monitor tables: host units, Sigma rule sets and rules, the batches each set has scanned."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vigil.core.clock import utcnow
from vigil.store.base import Base


class MonitorHost(Base):
    """A host and the unit it belongs to; `source` says how we know: ingest, manual or unknown."""

    __tablename__ = "monitor_hosts"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    unit: Mapped[str] = mapped_column(String(32), index=True)
    source: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: True while only collected logs (copied off the host for analysis) have shown the host,
    #: False once a live ingest has (or an officer said so); None until any ingest has seen it.
    #: Only a live host can fall silent.
    collected: Mapped[bool | None] = mapped_column(Boolean)


class MonitorRuleSet(Base):
    """A folder of Sigma rules registered under a name."""

    __tablename__ = "monitor_rulesets"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    path: Mapped[str] = mapped_column(Text)
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    rules: Mapped[int] = mapped_column(Integer, default=0)
    converted: Mapped[int] = mapped_column(Integer, default=0)


class MonitorRule(Base):
    """One Sigma rule: its metadata, and the SQL it converted to (or why it did not)."""

    __tablename__ = "monitor_rules"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    ruleset: Mapped[str] = mapped_column(
        String(100), ForeignKey("monitor_rulesets.name", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # rule | correlation
    title: Mapped[str] = mapped_column(String(500))
    level: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    logsource: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: The log-source mapping the rule's events come from (the runner's group).
    group_key: Mapped[str] = mapped_column(String(100), default="")
    path: Mapped[str] = mapped_column(Text)
    sha: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    sql: Mapped[str | None] = mapped_column(Text)
    #: Columns the SQL reads and the literal prefilter tree (see monitor.detect.sigma.prefilter).
    columns: Mapped[list[str]] = mapped_column(JSON, default=list)
    prefilter: Mapped[Any] = mapped_column(JSON, default=True)
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class MonitorScan(Base):
    """A lake batch that a rule set has already been run over: the watermark, batch by batch."""

    __tablename__ = "monitor_scans"

    ruleset: Mapped[str] = mapped_column(
        String(100), ForeignKey("monitor_rulesets.name", ondelete="CASCADE"), primary_key=True
    )
    batch: Mapped[str] = mapped_column(String(128), primary_key=True)
    scanned_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    matches: Mapped[int] = mapped_column(Integer, default=0)
