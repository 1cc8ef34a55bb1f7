"""The demo's officer accounts: one or more per role, all with the published demo password."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from vigil.core.access import Actor, Permission, Role
from vigil.core.errors import ConfigError
from vigil.core.units import UnitTree
from vigil.store.audit import audit
from vigil.store.users import create_user

#: Printed in the demo summary; refused outside demo mode.
DEMO_PASSWORD = "vigil-demo-2027"  # noqa: S105 - a published demo credential, demo mode only


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: Role
    unit: str  # a unit code, or "" for the province (root)
    full_name: str


_ACCOUNTS = (
    DemoAccount("admin", Role.ADMIN, "", "Trần Quốc Bảo"),
    DemoAccount("duty1", Role.DUTY_OFFICER, "", "Lê Minh Tuấn"),
    DemoAccount("duty2", Role.DUTY_OFFICER, "", "Phạm Thị Hồng Nhung"),
    DemoAccount("duty3", Role.DUTY_OFFICER, "", "Nguyễn Đức Anh"),
    DemoAccount("duty4", Role.DUTY_OFFICER, "", "Võ Thị Thu Hà"),
    DemoAccount("inspector", Role.INSPECTOR, "", "Đặng Văn Hùng"),
    DemoAccount("data_officer", Role.DATA_OFFICER, "", "Bùi Thị Mai Lan"),
    DemoAccount("analyst", Role.ANALYST, "", "Hoàng Gia Huy"),
    DemoAccount("viewer", Role.VIEWER, "", "Ngô Thanh Sơn"),
    DemoAccount("c01.duty", Role.DUTY_OFFICER, "C01", "Đỗ Văn Long"),
    DemoAccount("c02.duty", Role.DUTY_OFFICER, "C02", "Huỳnh Thị Kim Oanh"),
)


def demo_accounts(tree: UnitTree) -> list[DemoAccount]:
    """The accounts with the province's root code filled in."""
    root = tree.root.code
    return [DemoAccount(a.username, a.role, a.unit or root, a.full_name) for a in _ACCOUNTS]


def create_demo_officers(
    session: Session,
    actor: Actor,
    tree: UnitTree,
    *,
    demo_mode: bool,
    progress: Callable[[int, int], None] | None = None,
) -> list[DemoAccount]:
    """Create every demo account with DEMO_PASSWORD; only a deployment in demo mode may."""
    actor.require(Permission.ADMIN)
    if not demo_mode:
        raise ConfigError(
            "demo accounts share a published password: only a demo deployment may have them"
        )
    accounts = demo_accounts(tree)
    for done, account in enumerate(accounts, start=1):
        user = create_user(
            session,
            tree,
            account.username,
            DEMO_PASSWORD,
            account.role,
            account.unit,
            account.full_name,
            "vi",
        )
        audit(
            session,
            actor,
            "user.create",
            f"user:{user.username}",
            {"role": str(account.role), "unit": account.unit, "demo": True},
            unit=account.unit,
        )
        if progress:
            progress(done, len(accounts))
    return accounts
