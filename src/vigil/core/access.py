"""Roles, permissions and unit scope: who may do what, and over which units."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, TypeVar

from vigil.core.errors import NotFoundError, PermissionDenied


class Role(StrEnum):
    ADMIN = "admin"
    DUTY_OFFICER = "duty_officer"
    INSPECTOR = "inspector"
    DATA_OFFICER = "data_officer"
    ANALYST = "analyst"
    VIEWER = "viewer"


class Permission(StrEnum):
    VIEW = "view"  # dashboards, alerts, cases of one's units
    TRIAGE = "triage"  # acknowledge, false positive, merge, escalate
    MANAGE_CASES = "manage_cases"
    MANAGE_DUTY = "manage_duty"
    INSPECT = "inspect"
    MANAGE_DATA = "manage_data"
    VIEW_PERSONAL = "view_personal"  # unmasked personal data (audited)
    ANALYSE = "analyse"
    ADMIN = "admin"  # users, audit log, settings


_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.DUTY_OFFICER: frozenset(
        {Permission.VIEW, Permission.TRIAGE, Permission.MANAGE_CASES, Permission.MANAGE_DUTY}
    ),
    Role.INSPECTOR: frozenset({Permission.VIEW, Permission.INSPECT, Permission.MANAGE_CASES}),
    Role.DATA_OFFICER: frozenset(
        {Permission.VIEW, Permission.MANAGE_DATA, Permission.VIEW_PERSONAL, Permission.TRIAGE}
    ),
    Role.ANALYST: frozenset({Permission.VIEW, Permission.ANALYSE, Permission.TRIAGE}),
    Role.VIEWER: frozenset({Permission.VIEW}),
}


def grants(role: Role) -> frozenset[Permission]:
    return _GRANTS[role]


@dataclass(frozen=True)
class Actor:
    """Whoever performs an action: a logged-in user, or the system itself (detectors, CLI)."""

    username: str
    role: Role
    unit: str
    #: Codes of every unit the actor may see: its unit and all below it.
    scope: frozenset[str] = field(default_factory=frozenset)
    ip: str | None = None
    user_id: int | None = None

    def can(self, permission: Permission) -> bool:
        return permission in _GRANTS[self.role]

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise PermissionDenied(f"role {self.role} may not {permission}")

    def sees(self, unit: str) -> bool:
        return unit in self.scope

    def require_unit(self, unit: str) -> None:
        if not self.sees(unit):
            raise PermissionDenied(f"unit {unit} is outside the scope of {self.username}")


def system_actor(scope: frozenset[str], name: str = "system") -> Actor:
    """The actor of CLI jobs and detectors: admin over the whole province."""
    return Actor(username=name, role=Role.ADMIN, unit="*", scope=scope)


class InUnit(Protocol):
    """A stored thing that belongs to a unit (a finding, a case, a shift, a host)."""

    @property
    def unit(self) -> str: ...


RowT = TypeVar("RowT", bound=InUnit)


#: Ids beyond a signed 64-bit integer cannot be stored; asking for one is asking for nothing
#: (the database driver would raise OverflowError instead).
MAX_ROW_ID = 2**63 - 1


def storable_id(value: int) -> int:
    """`value` when a row could have it as id, else 0 (which none has)."""
    return value if 0 < value <= MAX_ROW_ID else 0


def require_found(actor: Actor, row: RowT | None, message: str) -> RowT:
    """The row, if the actor's units hold it; else NotFoundError(message).

    A row that does not exist and one outside the actor's units get the same answer, word for
    word, so that ids cannot be probed for existence nor the owning unit learnt.
    """
    if row is None or not actor.sees(row.unit):
        raise NotFoundError(message)
    return row
