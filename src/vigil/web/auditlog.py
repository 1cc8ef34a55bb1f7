"""Reading the audit log (admins only): newest first, filtered by who and what."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from vigil.core.access import Actor, Permission
from vigil.core.errors import ValidationError
from vigil.store.models import AuditEntry

MAX_PAGE = 500


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def search_audit(
    session: Session,
    actor: Actor,
    *,
    who: str | None = None,
    action: str | None = None,
    page: int = 1,
    per_page: int = 100,
) -> AuditPage:
    """`action` matches exactly or as a prefix ending in a dot ("case." finds every case action).

    Entries of units outside the admin's scope are left out; entries without a unit (logins,
    platform jobs) are shown to every admin.
    """
    actor.require(Permission.ADMIN)
    if page < 1 or not 1 <= per_page <= MAX_PAGE:
        raise ValidationError(f"page must be >= 1 and per_page between 1 and {MAX_PAGE}")
    conditions = [or_(AuditEntry.unit.is_(None), AuditEntry.unit.in_(sorted(actor.scope)))]
    if who:
        conditions.append(AuditEntry.actor == who)
    if action:
        if action.endswith("."):
            conditions.append(AuditEntry.action.startswith(action, autoescape=True))
        else:
            conditions.append(AuditEntry.action == action)
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(*conditions)) or 0
    query = (
        select(AuditEntry)
        .where(*conditions)
        .order_by(AuditEntry.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return AuditPage(list(session.scalars(query)), total, page, per_page)


def audit_actions(session: Session, actor: Actor) -> list[str]:
    """Every action name present, for the filter's choices."""
    actor.require(Permission.ADMIN)
    return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))
