"""One finding as its page shows it: the row, checked against the reader's units."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.core.access import Actor, Permission
from vigil.core.errors import NotFoundError
from vigil.store.models import FindingRow


@dataclass(frozen=True)
class FindingDetail:
    finding: FindingRow
    #: Findings folded into this one by a merge.
    merged: list[FindingRow]


def get_finding(session: Session, actor: Actor, finding_id: int) -> FindingRow:
    actor.require(Permission.VIEW)
    row = session.get(FindingRow, finding_id)
    if row is None:
        raise NotFoundError(f"no finding {finding_id}")
    actor.require_unit(row.unit)
    return row


def finding_detail(session: Session, actor: Actor, finding_id: int) -> FindingDetail:
    row = get_finding(session, actor, finding_id)
    merged = session.scalars(
        select(FindingRow)
        .where(FindingRow.merged_into == row.id, FindingRow.unit.in_(sorted(actor.scope)))
        .order_by(FindingRow.id)
    )
    return FindingDetail(row, list(merged))
