"""Roles, permissions and unit scope: who may do what, and over which units."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from vigil.core.errors import PermissionDenied


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
