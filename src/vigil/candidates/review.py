"""What people read of the checks: the candidates an officer may see, their mismatches masked,
and the audited reveal of what was declared and recorded."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.candidates.detect import FIELD_KIND
from vigil.candidates.models import CandidateCheckRow
from vigil.core.access import Actor, Permission
from vigil.core.personal import PersonalField, mask_value
from vigil.store.audit import audit

PERSONAL_VIEW = "personal.view"
STATUSES = ("verified", "mismatch", "not_found")
#: English labels (msgids in the room's catalog) of the compared fields.
FIELD_LABELS = {
    "identity": "The candidate",
    "citizen_id": "Citizen ID number",
    "full_name": "Full name",
    "birth_date": "Date of birth",
    "age": "Age on voting day",
    "death_date": "Date of death",
    "commune": "Commune of residence",
    "address": "Home address",
    "spouse": "Spouse",
    "parents": "Parents",
    "children": "Children",
}


def status_counts(rows: list[CandidateCheckRow]) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    return counts


def status_counts_seen(session: Session, actor: Actor) -> dict[str, int]:
    """status_counts of the actor's units, counted by the database (the dashboard's panel)."""
    actor.require(Permission.VIEW)
    query = select(
        CandidateCheckRow.status, CandidateCheckRow.unit, func.count(CandidateCheckRow.candidate_id)
    ).group_by(CandidateCheckRow.status, CandidateCheckRow.unit)
    counts = dict.fromkeys(STATUSES, 0)
    for status, unit, n in session.execute(query):
        if actor.sees(unit):
            counts[status] = counts.get(status, 0) + n
    return counts


def candidate_rows(
    session: Session, actor: Actor, status: str | None = None, unit: str | None = None
) -> list[CandidateCheckRow]:
    """The checked candidates of the actor's units, by candidate id."""
    actor.require(Permission.VIEW)
    query = select(CandidateCheckRow).order_by(CandidateCheckRow.candidate_id)
    if status:
        query = query.where(CandidateCheckRow.status == status)
    if unit:
        query = query.where(CandidateCheckRow.unit == unit)
    return [r for r in session.scalars(query) if actor.sees(r.unit)]


def candidate_row(session: Session, actor: Actor, candidate_id: str) -> CandidateCheckRow | None:
    actor.require(Permission.VIEW)
    row = session.get(CandidateCheckRow, candidate_id)
    if row is None or not actor.sees(row.unit):
        return None
    return row


def masked(field: str, value: Any) -> Any:
    """A declared or recorded value as shown by default: personal kinds masked."""
    kind = FIELD_KIND.get(field, PersonalField.FULL_NAME)
    return value if kind is None else mask_value(kind, value)


def mismatch_dicts(row: CandidateCheckRow, revealed: bool) -> list[dict[str, Any]]:
    """{"field", "declared", "recorded"} of each mismatch, masked unless `revealed`."""
    out = []
    for m in row.mismatches:
        declared, recorded = m.get("declared"), m.get("recorded")
        if not revealed:
            declared, recorded = masked(m["field"], declared), masked(m["field"], recorded)
        out.append({"field": m["field"], "declared": declared, "recorded": recorded})
    return out


def side_by_side(row: CandidateCheckRow, revealed: bool) -> list[dict[str, Any]]:
    """Each mismatch as the pages and the report show it: label, both sides, reason, rule."""
    shown = mismatch_dicts(row, revealed)
    return [
        {
            **s,
            "label": FIELD_LABELS.get(s["field"], s["field"]),
            "reason": m.get("reason", ""),
            "rule": m.get("rule", ""),
        }
        for s, m in zip(shown, row.mismatches, strict=True)
    ]


def shown_name(row: CandidateCheckRow, revealed: bool) -> str:
    return row.full_name if revealed else str(mask_value(PersonalField.FULL_NAME, row.full_name))


def reveal_candidates(
    session: Session, actor: Actor, rows: list[CandidateCheckRow], channel: str
) -> None:
    """Allow and record one read of these candidates' personal data (one audit entry each)."""
    actor.require(Permission.VIEW_PERSONAL)
    for row in rows:
        actor.require_unit(row.unit)
        audit(
            session,
            actor,
            PERSONAL_VIEW,
            f"candidate:{row.candidate_id}",
            {
                "fields": sorted({"full_name", *(m["field"] for m in row.mismatches)}),
                "channel": channel,
            },
            row.unit,
        )
