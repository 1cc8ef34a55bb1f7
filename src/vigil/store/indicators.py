"""Indicators in the operational store: an import updates in place and never duplicates."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from vigil.core.access import Actor, Permission
from vigil.core.clock import utcnow
from vigil.core.indicators import Indicator, IndicatorKind, IndicatorMatcher
from vigil.store.audit import audit
from vigil.store.models import IndicatorRow

BATCH = 1000


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _fields(ind: Indicator) -> dict[str, Any]:
    return {
        "confidence": ind.confidence,
        "valid_from": ind.valid_from,
        "valid_until": ind.valid_until,
        "tags": list(ind.tags),
        "description": ind.description,
        "external_id": ind.external_id,
        "exclude": ind.exclude,
    }


def upsert_indicators(
    session: Session, actor: Actor, indicators: Iterable[Indicator], *, origin: str = ""
) -> UpsertResult:
    """Insert new indicators and update changed ones; the same import twice changes nothing.

    Identity is (kind, value, source); within `indicators` a later repeat of a key wins.
    """
    actor.require(Permission.ANALYSE)
    wanted: dict[tuple[str, str, str], Indicator] = {}
    for ind in indicators:
        wanted[ind.key] = ind
    result = UpsertResult()
    if not wanted:
        return result
    sources = sorted({key[2] for key in wanted})
    existing: dict[tuple[str, str, str], tuple[int, dict[str, Any]]] = {}
    for start in range(0, len(sources), BATCH):
        query = select(IndicatorRow).where(IndicatorRow.source.in_(sources[start : start + BATCH]))
        for row in session.scalars(query):
            existing[(row.kind, row.value, row.source)] = (row.id, _fields(indicator_of(row)))

    now = utcnow()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for key, ind in wanted.items():
        fields = _fields(ind)
        if key not in existing:
            inserts.append(
                {
                    "kind": key[0],
                    "value": key[1],
                    "source": key[2],
                    **fields,
                    "first_seen": now,
                    "updated_at": now,
                }
            )
            continue
        row_id, stored = existing[key]
        if stored == fields:
            result.unchanged += 1
            continue
        updates.append({"id": row_id, **fields, "updated_at": now})
    for start in range(0, len(inserts), BATCH):
        session.execute(insert(IndicatorRow), inserts[start : start + BATCH])
    if updates:
        session.execute(update(IndicatorRow), updates)
    result.created, result.updated = len(inserts), len(updates)
    audit(
        session,
        actor,
        "indicator.import",
        f"indicators:{','.join(sources)}"[:200],
        {
            "origin": origin,
            "sources": sources,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
        },
    )
    return result


def indicator_of(row: IndicatorRow) -> Indicator:
    return Indicator(
        kind=IndicatorKind(row.kind),
        value=row.value,
        source=row.source,
        confidence=row.confidence,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        tags=tuple(row.tags or ()),
        description=row.description,
        external_id=row.external_id,
        exclude=row.exclude,
    )


def indicator_dict(row: IndicatorRow) -> dict[str, Any]:
    """The public JSON shape of a stored indicator."""
    return {
        "id": row.id,
        "kind": row.kind,
        "value": row.value,
        "source": row.source,
        "confidence": row.confidence,
        "valid_from": row.valid_from.isoformat() if row.valid_from else None,
        "valid_until": row.valid_until.isoformat() if row.valid_until else None,
        "tags": list(row.tags or ()),
        "description": row.description,
        "external_id": row.external_id,
        "first_seen": row.first_seen.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


def list_indicators(
    session: Session,
    actor: Actor,
    *,
    kind: str | None = None,
    source: str | None = None,
    active_at: datetime | None = None,
    limit: int | None = None,
) -> list[IndicatorRow]:
    actor.require(Permission.VIEW)
    query = select(IndicatorRow).order_by(
        IndicatorRow.source, IndicatorRow.kind, IndicatorRow.value
    )
    if kind:
        query = query.where(IndicatorRow.kind == IndicatorKind(kind).value)
    if source:
        query = query.where(IndicatorRow.source == source)
    if active_at is not None:
        query = query.where(_active(active_at))
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def count_indicators(session: Session) -> dict[tuple[str, str], int]:
    """Indicators per (source, kind)."""
    rows = session.execute(
        select(IndicatorRow.source, IndicatorRow.kind, func.count()).group_by(
            IndicatorRow.source, IndicatorRow.kind
        )
    )
    return {(source, kind): n for source, kind, n in rows}


def _active(at: datetime) -> Any:
    return (or_(IndicatorRow.valid_from.is_(None), IndicatorRow.valid_from <= at)) & (
        or_(IndicatorRow.valid_until.is_(None), IndicatorRow.valid_until > at)
    )


def load_indicators(session: Session, *, active_at: datetime | None = None) -> list[Indicator]:
    """Every stored indicator, or only those valid at `active_at`."""
    query = select(IndicatorRow).order_by(IndicatorRow.id)
    if active_at is not None:
        query = query.where(_active(active_at))
    return [indicator_of(row) for row in session.scalars(query)]


def load_matcher(session: Session, *, active_at: datetime | None = None) -> IndicatorMatcher:
    return IndicatorMatcher(load_indicators(session, active_at=active_at))
