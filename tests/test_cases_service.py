"""Case life: assign, steps, notes, status, close, reopen; the timeline records every action."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import BEFORE
from vigil.cases.service import (
    add_case_note,
    assign_case,
    case_findings,
    case_steps,
    case_timeline,
    close_case,
    complete_step,
    create_case,
    find_case,
    get_case,
    list_cases,
    mark_step_not_applicable,
    overdue_cases,
    set_case_status,
)
from vigil.cases.triage import escalate
from vigil.core.access import Actor, Role
from vigil.core.errors import ConflictError, NotFoundError, PermissionDenied, ValidationError
from vigil.core.finding import Finding
from vigil.core.severity import Severity
from vigil.deployment import Deployment
from vigil.store.audit import verify_chain
from vigil.store.findings import record_findings
from vigil.store.models import AuditEntry, FindingRow
from vigil.store.users import create_user

T = BEFORE


def officer(dep: Deployment, unit: str, role: Role = Role.DUTY_OFFICER, name: str = "") -> Actor:
    return Actor(name or f"{role.value}-{unit}", role, unit, frozenset(dep.units.subtree(unit)))


def opened_case(
    dep: Deployment, unit: str = "C01", subjects: tuple[str, ...] = ("host-1", "host-2")
) -> int:
    findings = [
        Finding("monitor", "yara-spyware", Severity.HIGH, unit, s, f"Spyware on {s}", observed_at=T)
        for s in subjects
    ]
    with dep.store.session() as s:
        ids = list(record_findings(s, findings).ids.values())
        case = escalate(s, dep.system(), ids, dep.policy(T), T)
        return case.id


def settle_open_steps(dep: Deployment, case_id: int, reason: str = "not this time") -> list[int]:
    """Mark every open step of the case not applicable; the positions marked."""
    admin = dep.system()
    with dep.store.session() as s:
        positions = [st.position for st in case_steps(s, admin, case_id) if not st.settled]
        for position in positions:
            mark_step_not_applicable(s, admin, case_id, position, reason, T)
    return positions


def test_timeline_records_every_action_in_order(any_deployment: Deployment) -> None:
    dep = any_deployment
    with dep.store.session() as s:
        create_user(s, dep.units, "lan", "long-password-1", Role.DUTY_OFFICER, "C01")
    case_id = opened_case(dep)
    lan = officer(dep, "C01", name="lan")
    with dep.store.session() as s:
        assign_case(s, lan, case_id, "lan", now=T + timedelta(minutes=1))
        complete_step(s, lan, case_id, 1, "host unplugged", now=T + timedelta(minutes=2))
        add_case_note(
            s,
            lan,
            case_id,
            "user says the laptop was slow since Monday",
            now=T + timedelta(minutes=3),
        )
        complete_step(s, lan, case_id, 2, now=T + timedelta(minutes=4))
        set_case_status(s, lan, case_id, "open", T + timedelta(minutes=5))
        for position in range(3, 9):
            mark_step_not_applicable(s, lan, case_id, position, "drill", T + timedelta(minutes=5))
        close_case(s, lan, case_id, "Spyware removed; host reinstalled.", T + timedelta(minutes=6))
        set_case_status(s, lan, case_id, "in_progress", T + timedelta(minutes=7))
    with dep.store.reader() as s:
        events = case_timeline(s, lan, case_id)
        kinds = [(e.kind, e.actor, e.at - T) for e in events]
        steps = case_steps(s, lan, case_id)
        case = get_case(s, lan, case_id)
        findings = case_findings(s, lan, case_id)
        audit_actions = list(s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
        assert verify_chain(s) == []
    m = timedelta(minutes=1)
    assert kinds == [
        ("opened", "system", 0 * m),
        ("escalated", "system", 0 * m),
        ("escalated", "system", 0 * m),
        ("assigned", "lan", 1 * m),
        ("status", "lan", 2 * m),  # the first step done puts the case in progress
        ("step_done", "lan", 2 * m),
        ("note", "lan", 3 * m),
        ("step_done", "lan", 4 * m),
        ("status", "lan", 5 * m),
        *[("step_na", "lan", 5 * m)] * 6,
        ("closed", "lan", 6 * m),
        ("reopened", "lan", 7 * m),
    ]
    assert events[4].detail == {"from": "open", "to": "in_progress"}
    assert events[15].detail["steps_not_applicable"] == 6
    assert events[15].detail["late"] is False
    assert [(st.position, st.done_by, st.note) for st in steps[:3]] == [
        (1, "lan", "host unplugged"),
        (2, "lan", ""),
        (3, "lan", ""),
    ]
    assert [(st.done, st.not_applicable) for st in steps[1:3]] == [(True, None), (False, "drill")]
    assert (case.status, case.closed_at, case.summary, case.owner) == (
        "in_progress",
        None,
        "Spyware removed; host reinstalled.",
        "lan",
    )
    # Closing resolved the findings; reopening put them back in the case.
    assert [f.status for f in findings] == ["escalated", "escalated"]
    assert audit_actions == [
        "finding.escalate",
        "case.assign",
        "case.step",
        "case.note",
        "case.step",
        "case.status",
        *["case.step_not_applicable"] * 6,
        "case.close",
        "case.reopen",
    ]


def test_close_resolves_findings_and_closed_cases_refuse_work(deployment: Deployment) -> None:
    dep = deployment
    case_id = opened_case(dep)
    admin = dep.system()
    with pytest.raises(ValidationError, match="needs a summary"), dep.store.session() as s:
        set_case_status(s, admin, case_id, "closed", T)
    with (
        pytest.raises(ValidationError, match="summary must not be empty"),
        dep.store.session() as s,
    ):
        close_case(s, admin, case_id, "  ", T)
    # Not while a playbook step is open: nothing changes, and the open steps are named.
    with (
        pytest.raises(ConflictError, match=r"still has open steps \(1, 2, 3, 4, 5, 6, 7, 8\)"),
        dep.store.session() as s,
    ):
        close_case(s, admin, case_id, "done", T + timedelta(hours=9))
    with dep.store.reader() as s:
        assert get_case(s, admin, case_id).status == "open"
        assert {f.status for f in s.scalars(select(FindingRow))} == {"escalated"}
    assert settle_open_steps(dep, case_id) == [1, 2, 3, 4, 5, 6, 7, 8]
    with dep.store.session() as s:
        close_case(s, admin, case_id, "done", T + timedelta(hours=9))
    with dep.store.reader() as s:
        statuses = {(f.status, f.status_reason) for f in s.scalars(select(FindingRow))}
        case = get_case(s, admin, case_id)
        late = case_timeline(s, admin, case_id)[-1].detail["late"]
    assert statuses == {("resolved", "case VV-2026-0001 closed")}
    assert (case.status, case.closed_at, late) == ("closed", T + timedelta(hours=9), True)
    for action in (
        lambda s: complete_step(s, admin, case_id, 1),
        lambda s: assign_case(s, admin, case_id, "anyone"),
        lambda s: close_case(s, admin, case_id, "again", T),
    ):
        with pytest.raises(ConflictError, match="is closed"), dep.store.session() as s:
            action(s)
    with dep.store.session() as s:  # a note after closing is fine: after-action findings
        add_case_note(s, admin, case_id, "root cause: USB stick")


def test_step_errors(deployment: Deployment) -> None:
    case_id = opened_case(deployment)
    admin = deployment.system()
    with deployment.store.session() as s:
        complete_step(s, admin, case_id, 3)
    with (
        pytest.raises(ConflictError, match="was already settled by system"),
        deployment.store.session() as s,
    ):
        complete_step(s, admin, case_id, 3)
    with pytest.raises(NotFoundError, match="has no step 42"), deployment.store.session() as s:
        complete_step(s, admin, case_id, 42)
    with pytest.raises(ConflictError, match="already in_progress"), deployment.store.session() as s:
        set_case_status(s, admin, case_id, "in_progress", T)
    with (
        pytest.raises(ValidationError, match="unknown case status 'done'"),
        deployment.store.session() as s,
    ):
        set_case_status(s, admin, case_id, "done", T)


def test_steps_wait_for_the_steps_they_come_after(deployment: Deployment) -> None:
    """malware_host: step 7 (reinstall) comes after step 2 (collect), 4 and 5 after 3."""
    dep = deployment
    case_id = opened_case(dep)
    admin = dep.system()
    with dep.store.reader() as s:
        assert [st.after for st in case_steps(s, admin, case_id)] == [
            [],
            [],
            [],
            [3],
            [3],
            [],
            [2],
            [],
        ]
    with (
        pytest.raises(ConflictError, match="step 7 waits for step 2: do that first"),
        dep.store.session() as s,
    ):
        complete_step(s, admin, case_id, 7)
    with (
        pytest.raises(ConflictError, match="step 4 waits for step 3"),
        dep.store.session() as s,
    ):
        complete_step(s, admin, case_id, 4)
    with dep.store.session() as s:  # settled as not applicable, step 2 lets step 7 go on
        mark_step_not_applicable(s, admin, case_id, 2, "memory already lost: host rebooted", T)
        complete_step(s, admin, case_id, 7, "reinstalled", T)
        complete_step(s, admin, case_id, 3, now=T)
        complete_step(s, admin, case_id, 4, now=T)
    with dep.store.reader() as s:
        steps = {st.position: st for st in case_steps(s, admin, case_id)}
        entry = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "case.step_not_applicable")
        ).one()
    assert [p for p, st in steps.items() if st.done] == [3, 4, 7]
    assert steps[2].not_applicable == "memory already lost: host rebooted"
    assert entry.detail == {"position": 2, "reason": "memory already lost: host rebooted"}


def test_not_applicable_needs_a_reason_and_an_open_step(deployment: Deployment) -> None:
    dep = deployment
    case_id = opened_case(dep)
    admin = dep.system()
    with (
        pytest.raises(ValidationError, match="the reason a step does not apply must not be empty"),
        dep.store.session() as s,
    ):
        mark_step_not_applicable(s, admin, case_id, 1, "   ", T)
    with dep.store.session() as s:
        complete_step(s, admin, case_id, 1, now=T)
    with pytest.raises(ConflictError, match="already settled"), dep.store.session() as s:
        mark_step_not_applicable(s, admin, case_id, 1, "too late", T)
    with pytest.raises(NotFoundError, match="has no step 9"), dep.store.session() as s:
        mark_step_not_applicable(s, admin, case_id, 9, "no such step", T)
    viewer = officer(dep, "C01", Role.VIEWER)
    with pytest.raises(PermissionDenied), dep.store.session() as s:
        mark_step_not_applicable(s, viewer, case_id, 2, "a viewer cannot", T)


def test_permissions_and_scope_of_cases(deployment: Deployment) -> None:
    dep = deployment
    c01_case = opened_case(dep, "C01")
    c02_case = opened_case(dep, "C02", ("host-9",))
    c02 = officer(dep, "C02")
    with dep.store.reader() as s:
        assert [c.id for c in list_cases(s, c02)] == [c02_case]
        assert [c.unit for c in list_cases(s, dep.system())] == ["C01", "C02"]
        with pytest.raises(NotFoundError, match=f"^no case {c01_case}$"):
            get_case(s, c02, c01_case)
        with pytest.raises(NotFoundError, match=r"^no case vv-2026-0001$"):
            find_case(s, c02, "vv-2026-0001")
        assert find_case(s, c02, "VV-2026-0002").id == c02_case
        with pytest.raises(NotFoundError, match="no case VV-2026-0099"):
            find_case(s, c02, "VV-2026-0099")
    # Viewers read, never write; inspectors work cases; analysts triage but do not work cases.
    viewer = officer(dep, "C01", Role.VIEWER)
    inspector = officer(dep, "C01", Role.INSPECTOR)
    analyst = officer(dep, "C01", Role.ANALYST)
    with dep.store.reader() as s:
        assert len(case_steps(s, viewer, c01_case)) == 8
    for actor in (viewer, analyst):
        with (
            pytest.raises(PermissionDenied, match="may not manage_cases"),
            dep.store.session() as s,
        ):
            add_case_note(s, actor, c01_case, "hello")
    with dep.store.session() as s:
        complete_step(s, inspector, c01_case, 1)
    with pytest.raises(NotFoundError, match="no case"), dep.store.session() as s:
        add_case_note(s, c02, c01_case, "not mine")


def test_list_and_overdue_cases(any_deployment: Deployment) -> None:
    dep = any_deployment
    admin = dep.system()
    with dep.store.session() as s:
        slow = create_case(
            s, admin, "Leaked voter file on a forum", "C01", "medium", dep.policy(T), T
        )
        fast = create_case(
            s,
            admin,
            "Portal down",
            "P01",
            Severity.CRITICAL,
            dep.policy(T),
            T,
            playbook="portal_defacement_ddos",
        )
        done = create_case(s, admin, "Old", "C02", "low", dep.policy(T), T - timedelta(days=30))
        close_case(s, admin, done.id, "handled", T)
        ids = {"slow": slow.id, "fast": fast.id, "done": done.id}
        assert (slow.due_at, fast.due_at) == (T + timedelta(hours=48), T + timedelta(hours=2))
    with dep.store.reader() as s:
        order = [c.id for c in list_cases(s, admin)]
        active = [c.id for c in list_cases(s, admin, status="active")]
        at_3h = [c.id for c in overdue_cases(s, T + timedelta(hours=3))]
        listed_3h = [c.id for c in list_cases(s, admin, overdue_at=T + timedelta(hours=3))]
        at_49h = [c.id for c in overdue_cases(s, T + timedelta(hours=49))]
        closed = [c.id for c in list_cases(s, admin, status="closed")]
    assert order == [ids["fast"], ids["slow"], ids["done"]]
    assert active == [ids["fast"], ids["slow"]]
    assert at_3h == listed_3h == [ids["fast"]]
    assert at_49h == [ids["fast"], ids["slow"]]
    assert closed == [ids["done"]]
