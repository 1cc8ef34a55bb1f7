"""Inspections of units: plan against a profile, answer controls, score, close, remediate.

Every write takes the session, the actor and the time from the caller and is audited. Business
rule of closing: the scorecard is kept, and every control that did not fully pass gets a
remediation item with an owner and a due date counted from the closing by the control's severity
(`DUE_DAYS`); a second closing is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.core.access import Actor, Permission
from vigil.core.clock import to_utc
from vigil.core.errors import ConflictError, NotFoundError, ValidationError
from vigil.core.severity import Severity
from vigil.inspect.controls.catalog import Catalog
from vigil.inspect.controls.scoring import STATUSES, UNANSWERED, Scorecard, Trend, score, trend
from vigil.inspect.models import (
    Answer,
    Inspection,
    InspectionStatus,
    RemediationItem,
    RemediationStatus,
)
from vigil.store.audit import audit

#: Days a unit has to fix a shortfall, by the control's severity.
DUE_DAYS = {
    Severity.CRITICAL: 7,
    Severity.HIGH: 14,
    Severity.MEDIUM: 30,
    Severity.LOW: 60,
    Severity.INFO: 90,
}


def get_inspection(session: Session, actor: Actor, inspection_id: int) -> Inspection:
    row = session.get(Inspection, inspection_id)
    if row is None:
        raise NotFoundError(f"no inspection {inspection_id}")
    actor.require_unit(row.unit)
    return row


def plan_inspection(
    session: Session,
    actor: Actor,
    catalog: Catalog,
    unit: str,
    profile: str,
    planned_for: datetime,
) -> Inspection:
    actor.require(Permission.INSPECT)
    actor.require_unit(unit)
    catalog.profile(profile)
    row = Inspection(
        unit=unit,
        profile=profile,
        catalog_version=catalog.version,
        inspector=actor.username,
        planned_for=to_utc(planned_for),
        status=InspectionStatus.PLANNED.value,
    )
    session.add(row)
    session.flush()
    audit(session, actor, "inspect.plan", f"inspection:{row.id}", {"profile": profile}, unit)
    return row


def planned_inspection(session: Session, actor: Actor, inspection_id: int) -> Inspection:
    actor.require(Permission.INSPECT)
    row = get_inspection(session, actor, inspection_id)
    if row.status != InspectionStatus.PLANNED.value:
        raise ConflictError(f"inspection {inspection_id} is closed; its answers are final")
    return row


def record_answer(
    session: Session,
    actor: Actor,
    catalog: Catalog,
    inspection_id: int,
    control: str,
    status: str,
    *,
    note: str = "",
    source: str = "form",
    detail: dict[str, object] | None = None,
    now: datetime,
) -> Answer:
    """Set one control's answer (the latest answer stands, whoever gave it)."""
    row = planned_inspection(session, actor, inspection_id)
    profile = catalog.profile(row.profile)
    if control not in profile.controls:
        raise ValidationError(f"control {control!r} is not in profile {row.profile}")
    if status not in STATUSES or status == UNANSWERED:
        raise ValidationError(f"unknown status {status!r} (pass, partial, fail, na)")
    answer = session.get(Answer, (inspection_id, control))
    if answer is None:
        answer = Answer(inspection_id=inspection_id, control=control)
        session.add(answer)
    answer.status, answer.source, answer.note = status, source, note[:4000]
    answer.detail = dict(detail or {})
    answer.answered_by, answer.answered_at = actor.username, to_utc(now)
    audit(
        session,
        actor,
        "inspect.answer",
        f"inspection:{inspection_id}",
        {"control": control, "status": status, "source": source},
        row.unit,
    )
    return answer


def answers_of(session: Session, inspection_id: int) -> dict[str, Answer]:
    rows = session.scalars(select(Answer).where(Answer.inspection_id == inspection_id))
    return {a.control: a for a in rows}


def scorecard_of(session: Session, catalog: Catalog, inspection: Inspection) -> Scorecard:
    answers = {c: a.status for c, a in answers_of(session, inspection.id).items()}
    return score(catalog, catalog.profile(inspection.profile), answers)


def previous_inspection(session: Session, inspection: Inspection) -> Inspection | None:
    """The unit's last closed inspection against the same profile before this one."""
    q = (
        select(Inspection)
        .where(
            Inspection.unit == inspection.unit,
            Inspection.profile == inspection.profile,
            Inspection.status == InspectionStatus.CLOSED.value,
            Inspection.id != inspection.id,
            Inspection.planned_for < inspection.planned_for,
        )
        .order_by(Inspection.planned_for.desc())
        .limit(1)
    )
    return session.scalars(q).first()


@dataclass
class InspectionView:
    inspection: Inspection
    scorecard: Scorecard
    trend: Trend | None


def view_inspection(session: Session, catalog: Catalog, inspection: Inspection) -> InspectionView:
    card = scorecard_of(session, catalog, inspection)
    before = previous_inspection(session, inspection)
    past = scorecard_of(session, catalog, before) if before is not None else None
    return InspectionView(inspection, card, trend(card, past))


def close_inspection(
    session: Session,
    actor: Actor,
    catalog: Catalog,
    inspection_id: int,
    now: datetime,
    owner: str = "",
) -> list[RemediationItem]:
    """Score for good and open a remediation item for every control short of a pass."""
    row = planned_inspection(session, actor, inspection_id)
    now = to_utc(now)
    card = scorecard_of(session, catalog, row)
    row.status, row.closed_at = InspectionStatus.CLOSED.value, now
    row.score, row.level = card.overall, card.level
    items = []
    for control, _status in card.shortfalls:
        item = RemediationItem(
            inspection_id=row.id,
            unit=row.unit,
            control=control.id,
            owner=owner or f"head of {row.unit}",
            due_at=now + timedelta(days=DUE_DAYS[control.severity]),
            status=RemediationStatus.OPEN.value,
            created_at=now,
            note="",
        )
        session.add(item)
        items.append(item)
    session.flush()
    audit(
        session,
        actor,
        "inspect.close",
        f"inspection:{row.id}",
        {"score": card.overall, "level": card.level, "remediation": len(items)},
        row.unit,
    )
    return items


def complete_remediation(
    session: Session, actor: Actor, item_id: int, now: datetime, note: str = ""
) -> RemediationItem:
    actor.require(Permission.INSPECT)
    item = session.get(RemediationItem, item_id)
    if item is None:
        raise NotFoundError(f"no remediation item {item_id}")
    actor.require_unit(item.unit)
    if item.status == RemediationStatus.DONE.value:
        raise ConflictError(f"remediation item {item_id} is already done")
    item.status, item.closed_at, item.note = RemediationStatus.DONE.value, to_utc(now), note
    audit(
        session,
        actor,
        "inspect.remediated",
        f"remediation:{item_id}",
        {"control": item.control},
        item.unit,
    )
    return item


def latest_closed(session: Session, units: set[str] | None = None) -> list[Inspection]:
    """Each unit's most recent closed inspection (the one its open shortfalls come from)."""
    q = select(Inspection).where(Inspection.status == InspectionStatus.CLOSED.value)
    if units is not None:
        q = q.where(Inspection.unit.in_(units))
    latest: dict[str, Inspection] = {}
    for row in session.scalars(q.order_by(Inspection.planned_for, Inspection.id)):
        latest[row.unit] = row
    return [latest[u] for u in sorted(latest)]


def remediation_items(
    session: Session, actor: Actor, *, open_only: bool = True
) -> list[RemediationItem]:
    q = select(RemediationItem).where(RemediationItem.unit.in_(actor.scope))
    if open_only:
        q = q.where(RemediationItem.status == RemediationStatus.OPEN.value)
    return list(session.scalars(q.order_by(RemediationItem.due_at, RemediationItem.id)))


def overdue(item: RemediationItem, now: datetime) -> bool:
    return item.status == RemediationStatus.OPEN.value and item.due_at < to_utc(now)
