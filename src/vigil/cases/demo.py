"""Demo duty room: a 14-day roster with one planted 8-hour hole, two cases (one overdue), a note."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.cases.duty import CAPABILITY, GAP_RULE, Gap, Hole, add_shift
from vigil.cases.handover import add_handover_note
from vigil.cases.models import DutyShift
from vigil.cases.playbooks import load_playbooks, suggest_for
from vigil.cases.service import (
    OVERDUE_RULE,
    add_case_note,
    assign_case,
    complete_step,
    create_case,
)
from vigil.cases.triage import escalate
from vigil.core.access import Actor, Role
from vigil.core.clock import PROVINCE_TZ, to_local, to_utc
from vigil.core.finding import FindingStatus
from vigil.core.severity import Severity
from vigil.deployment import Deployment
from vigil.plugins import DemoContext
from vigil.store.models import FindingRow, User
from vigil.store.users import actor_for

log = logging.getLogger(__name__)

#: Local start hours of the three daily shifts (07-15, 15-23, 23-07).
SHIFT_STARTS = (7, 15, 23)
SHIFT_HOURS = 8
DAYS_BEFORE = 7
DAYS_AFTER = 7
#: The planted hole: the night shift this many days after today has nobody.
GAP_DAY = 2


def _local(day: datetime, hour: int) -> datetime:
    return to_utc(datetime.combine(day.date(), time(hour), tzinfo=PROVINCE_TZ))


def _officers(session: Session, root: str) -> list[User]:
    q = (
        select(User)
        .where(User.role == Role.DUTY_OFFICER.value, User.unit == root, User.active.is_(True))
        .order_by(User.username)
    )
    return list(session.scalars(q))


def build_roster(
    session: Session, actor: Actor, root: str, officers: list[str], now: datetime
) -> Gap:
    """Three 8-hour shifts a day over the days around `now`, leaving one night empty."""
    today = to_local(now)
    gap: Gap | None = None
    k = 0
    for offset in range(-DAYS_BEFORE, DAYS_AFTER + 1):
        day = today + timedelta(days=offset)
        for hour in SHIFT_STARTS:
            starts = _local(day, hour)
            ends = starts + timedelta(hours=SHIFT_HOURS)
            if offset == GAP_DAY and hour == SHIFT_STARTS[-1]:
                gap = Gap(starts, ends)
                continue
            add_shift(session, actor, root, officers[k % len(officers)], starts, ends, "lead")
            k += 1
    assert gap is not None
    return gap


def _late_start(dep: Deployment, severity: Severity, now: datetime) -> datetime:
    """An opening time far enough back that the response time has run out, whatever the phase."""
    opened = now - dep.policy(now).response_time(severity) - timedelta(hours=6)
    return now - dep.policy(opened).response_time(severity) - timedelta(hours=6)


def _escalatable(
    session: Session, dep: Deployment, now: datetime
) -> tuple[FindingRow, datetime] | None:
    """The worst open finding that was already there when its late case would have opened and
    that a playbook fits (the overdue case of the demo carries its steps)."""
    playbooks = load_playbooks()
    q = (
        select(FindingRow)
        .where(
            FindingRow.status.in_([FindingStatus.NEW.value, FindingStatus.ACKNOWLEDGED.value]),
            FindingRow.capability != CAPABILITY,
        )
        .order_by(FindingRow.severity.desc(), FindingRow.last_seen.desc(), FindingRow.id)
        .limit(50)
    )
    for row in session.scalars(q):
        opened = _late_start(dep, Severity(row.severity), now)
        if row.first_seen <= opened and suggest_for([row], playbooks) is not None:
            return row, opened
    return None


def build_cases(
    session: Session, dep: Deployment, actor: Actor, root: str, owner: str, now: datetime
) -> tuple[str, str]:
    """An overdue case (from a real open finding when there is one) and a fresh one."""
    found = _escalatable(session, dep, now)
    if found is not None:
        row, opened = found
        late = escalate(session, actor, [row.id], dep.policy(opened), opened, owner=owner)
    else:
        opened = _late_start(dep, Severity.HIGH, now)
        late = create_case(
            session,
            actor,
            "Trang chính thức của Ủy ban bầu cử tỉnh đăng địa điểm bỏ phiếu giả",
            root,
            Severity.HIGH,
            dep.policy(opened),
            opened,
            playbook="account_takeover",
            owner=owner,
        )
    if late.playbook:
        complete_step(
            session,
            actor,
            late.id,
            1,
            "Đã gọi quản trị viên trang; xác nhận tài khoản bị chiếm quyền.",
            now=opened + timedelta(minutes=40),
        )
    add_case_note(
        session,
        actor,
        late.id,
        "Đang chờ nền tảng phản hồi yêu cầu khôi phục tài khoản.",
        now=opened + timedelta(hours=2),
    )

    fresh_at = now - timedelta(minutes=30)
    fresh = create_case(
        session,
        actor,
        "Cán bộ báo cáo nhận thư yêu cầu nhập lại mật khẩu hệ thống danh sách cử tri",
        root,
        Severity.MEDIUM,
        dep.policy(fresh_at),
        fresh_at,
        playbook="phishing_staff",
    )
    assign_case(session, actor, fresh.id, owner, now=fresh_at + timedelta(minutes=5))
    return late.number, late.unit


def build_demo(ctx: DemoContext) -> None:
    dep = ctx.deployment
    now = dep.now()
    root = dep.units.root.code
    with dep.store.session() as session:
        officers = _officers(session, root)
        if not officers:
            log.warning("demo: no duty officers at %s; skipping the duty room", root)
            return
        if session.scalar(select(DutyShift.id).where(DutyShift.unit == root).limit(1)) is not None:
            log.info("demo: the duty roster of %s exists; leaving it", root)
            return
        actor = actor_for(officers[0], dep.units)
        gap = build_roster(session, actor, root, [u.username for u in officers], now)
        number, unit = build_cases(session, dep, actor, root, officers[0].username, now)
        last = session.scalar(
            select(DutyShift)
            .where(DutyShift.unit == root, DutyShift.ends <= now)
            .order_by(DutyShift.ends.desc())
        )
        add_handover_note(
            session,
            actor,
            "Lưu lượng truy cập cổng thông tin tăng cao trong đêm; nhà cung cấp hosting đang "
            f"trực sẵn sàng. Vụ việc {number} vẫn chờ nền tảng phản hồi.",
            shift_id=last.id if last else None,
            now=last.ends if last else now,
        )
    hole = Hole(gap.start, gap.end, gap)
    ctx.plant(CAPABILITY, GAP_RULE, hole.subject, root, "night shift left empty in the demo roster")
    ctx.plant(
        CAPABILITY, OVERDUE_RULE, number, unit, "case opened past its response time and not closed"
    )
