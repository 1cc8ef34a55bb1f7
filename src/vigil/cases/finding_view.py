"""One finding as its page shows it: the row, checked against the reader's units."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.core.access import Actor, Permission, require_found, storable_id
from vigil.core.i18n import _
from vigil.core.personal import field_label, personal_fields
from vigil.store.models import FindingRow


@dataclass(frozen=True)
class FindingDetail:
    finding: FindingRow
    #: Findings folded into this one by a merge.
    merged: list[FindingRow]


def get_finding(session: Session, actor: Actor, finding_id: int) -> FindingRow:
    actor.require(Permission.VIEW)
    row = session.get(FindingRow, storable_id(finding_id))
    return require_found(actor, row, f"no finding {finding_id}")


def finding_detail(session: Session, actor: Actor, finding_id: int) -> FindingDetail:
    row = get_finding(session, actor, finding_id)
    merged = session.scalars(
        select(FindingRow)
        .where(FindingRow.merged_into == row.id, FindingRow.unit.in_(sorted(actor.scope)))
        .order_by(FindingRow.id)
    )
    return FindingDetail(row, list(merged))


def personal_labels(evidence: dict[str, Any] | None, lang: str) -> list[str]:
    """The personal fields of an evidence as a page names them, in the reader's language."""
    labels = []
    for key in personal_fields(evidence):
        label, qualifier = field_label(key)
        text = _(label, lang)
        labels.append(f"{text} ({qualifier})" if qualifier else text)
    return labels
