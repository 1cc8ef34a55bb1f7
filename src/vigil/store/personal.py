"""Reading personal data unmasked: only with VIEW_PERSONAL, and every read audited.

The masking half of the rule lives in `vigil.core.personal`; this is the other half, shared by
the web pages, the API and the CLI so that each reveal leaves the same audit entry:
action "personal.view", target "finding:<id>", detail {"fields": [...], "channel": ...}, with the
actor and their address.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from vigil.core.access import Actor, Permission
from vigil.core.personal import personal_fields
from vigil.store.audit import audit
from vigil.store.models import FindingRow

PERSONAL_VIEW = "personal.view"


def reveal_evidence(
    session: Session, actor: Actor, row: FindingRow, channel: str = "web"
) -> dict[str, Any]:
    """The unmasked evidence of one finding, audited when it holds personal fields.

    Evidence without personal fields reads the same masked or not, so revealing it records
    nothing: the audit log lists only reads that showed someone's data.
    """
    actor.require(Permission.VIEW_PERSONAL)
    actor.require_unit(row.unit)
    fields = personal_fields(row.evidence)
    if fields:
        audit(
            session,
            actor,
            PERSONAL_VIEW,
            f"finding:{row.id}",
            {"fields": fields, "channel": channel},
            row.unit,
        )
    return copy.deepcopy(dict(row.evidence or {}))


def reveal_findings(
    session: Session, actor: Actor, rows: Iterable[FindingRow], channel: str = "cli"
) -> dict[int, dict[str, Any]]:
    """Unmasked evidence of several findings by id; refused as a whole without the permission."""
    actor.require(Permission.VIEW_PERSONAL)
    return {row.id: reveal_evidence(session, actor, row, channel) for row in rows}
