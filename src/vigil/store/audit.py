"""The audit log: who did what, when, from where; every write and every personal-data view."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.core.access import Actor
from vigil.core.clock import utcnow
from vigil.store.models import AuditEntry

GENESIS = "0" * 64


def _digest(
    prev: str, at: datetime, actor: str, action: str, target: str, detail: dict[str, Any]
) -> str:
    body = json.dumps(
        [prev, at.isoformat(), actor, action, target, detail],
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def audit(
    session: Session,
    actor: Actor,
    action: str,
    target: str,
    detail: dict[str, Any] | None = None,
    unit: str | None = None,
) -> AuditEntry:
    """Append one entry, chained to the previous one so that removal or edits show."""
    detail = detail or {}
    prev = session.execute(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).scalar()
    at = utcnow()
    entry = AuditEntry(
        at=at,
        actor=actor.username,
        role=str(actor.role),
        action=action,
        target=target[:200],
        unit=unit,
        ip=actor.ip,
        detail=detail,
        prev_hash=prev or GENESIS,
        hash=_digest(prev or GENESIS, at, actor.username, action, target[:200], detail),
    )
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainBreak:
    entry_id: int
    reason: str


def verify_chain(session: Session) -> list[ChainBreak]:
    """Recompute every hash; an empty list means the log is whole."""
    breaks: list[ChainBreak] = []
    prev = GENESIS
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id)):
        if entry.prev_hash != prev:
            breaks.append(ChainBreak(entry.id, "previous hash does not match"))
        expected = _digest(
            entry.prev_hash, entry.at, entry.actor, entry.action, entry.target, entry.detail
        )
        if entry.hash != expected:
            breaks.append(ChainBreak(entry.id, "entry was altered"))
        prev = entry.hash
    return breaks
