"""Triage: acknowledge, false positive, merge, escalate, link; permissions, scope and audit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import BEFORE, DURING
from vigil.cases.models import Case, CaseEvent, CaseStep
from vigil.cases.service import get_case
from vigil.cases.triage import (
    PlaybookNeeded,
    acknowledge,
    escalate,
    link_findings,
    mark_false_positive,
    merge_findings,
    unlink_finding,
)
from vigil.core.access import Actor, Role
from vigil.core.errors import ConflictError, NotFoundError, PermissionDenied, ValidationError
from vigil.core.finding import Finding
from vigil.core.severity import Severity
from vigil.deployment import Deployment
from vigil.store.audit import verify_chain
from vigil.store.findings import record_findings
from vigil.store.models import AuditEntry, FindingOccurrence, FindingRow
from vigil.store.users import create_user


def officer(dep: Deployment, unit: str, role: Role = Role.DUTY_OFFICER) -> Actor:
    return Actor(f"{role.value}-{unit}", role, unit, frozenset(dep.units.subtree(unit)))


def finding(
    subject: str,
    severity: Severity = Severity.HIGH,
    unit: str = "C01",
    keys: tuple[str, ...] = (),
    minutes: int = 0,
    capability: str = "monitor",
    rule: str = "rule-1",
    tags: list[str] | None = None,
) -> Finding:
    return Finding(
        capability=capability,
        rule=rule,
        severity=severity,
        unit=unit,
        subject=subject,
        title=f"title {subject}",
        evidence={"tags": tags} if tags else {},
        observed_at=BEFORE + timedelta(minutes=minutes),
        occurrences=keys,
    )


def add(dep: Deployment, *findings: Finding) -> list[int]:
    with dep.store.session() as s:
        ids = record_findings(s, findings).ids
    return [ids[f.fingerprint] for f in findings]


def row(dep: Deployment, fid: int) -> FindingRow:
    with dep.store.reader() as s:
        found = s.get(FindingRow, fid)
        assert found is not None
        return found


def actions(dep: Deployment) -> list[str]:
    with dep.store.reader() as s:
        return list(s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_acknowledge_then_again_is_a_conflict(deployment: Deployment) -> None:
    (fid,) = add(deployment, finding("ws-01"))
    actor = officer(deployment, "C01")
    with deployment.store.session() as s:
        acknowledge(s, actor, fid, "looking at the host")
    got = row(deployment, fid)
    assert (got.status, got.status_reason, got.is_open) == (
        "acknowledged",
        "looking at the host",
        True,
    )
    with (
        pytest.raises(ConflictError, match="already acknowledged"),
        deployment.store.session() as s,
    ):
        acknowledge(s, actor, fid)
    with pytest.raises(NotFoundError, match="no finding 999"), deployment.store.session() as s:
        acknowledge(s, actor, 999)
    assert actions(deployment) == ["finding.ack"]


def test_viewer_and_other_commune_cannot_triage(deployment: Deployment) -> None:
    (fid,) = add(deployment, finding("ws-01", unit="C01"))
    refusals: tuple[tuple[Actor, type[Exception], str], ...] = (
        (officer(deployment, "C01", Role.VIEWER), PermissionDenied, "may not triage"),
        # Outside the officer's units the finding is absent, as one that does not exist.
        (officer(deployment, "C02"), NotFoundError, f"^no finding {fid}$"),
        (officer(deployment, "C01", Role.INSPECTOR), PermissionDenied, "may not triage"),
    )
    for actor, error, message in refusals:
        with pytest.raises(error, match=message), deployment.store.session() as s:
            acknowledge(s, actor, fid)
        with pytest.raises(error, match=message), deployment.store.session() as s:
            mark_false_positive(s, actor, fid, "because")
        with pytest.raises(error, match=message), deployment.store.session() as s:
            escalate(s, actor, [fid], deployment.policy(), BEFORE)
    assert row(deployment, fid).status == "new"
    assert actions(deployment) == []


def test_false_positive_needs_a_reason_and_stays_suppressed(deployment: Deployment) -> None:
    (fid,) = add(deployment, finding("ws-01", keys=("e1",)))
    actor = officer(deployment, "C01")
    with pytest.raises(ValidationError, match="needs a reason"), deployment.store.session() as s:
        mark_false_positive(s, actor, fid, "   ")
    with deployment.store.session() as s:
        mark_false_positive(s, actor, fid, "scheduled backup job")
    add(deployment, finding("ws-01", keys=("e2",), minutes=5))
    got = row(deployment, fid)
    assert (got.status, got.status_reason, got.count) == (
        "false_positive",
        "scheduled backup job",
        2,
    )
    with pytest.raises(ConflictError, match="is false_positive"), deployment.store.session() as s:
        acknowledge(s, actor, fid)
    assert actions(deployment) == ["finding.false_positive"]


def test_merge_moves_occurrences_and_recounts_distinct_keys(any_deployment: Deployment) -> None:
    dep = any_deployment
    target, dup, other = add(
        dep,
        finding("ws-01", Severity.MEDIUM, keys=("a1", "a2"), minutes=10),
        finding("ws-01-edr", Severity.HIGH, keys=("a2", "b1"), minutes=0),
        finding("ws-01-proxy", Severity.MEDIUM, unit="C01-POL", keys=("c1",), minutes=40),
    )
    with dep.store.session() as s:
        merged = merge_findings(s, officer(dep, "C01"), target, [dup, other, dup])
        assert merged.id == target
    got = row(dep, target)
    assert got.count == 4  # a1, a2, b1, c1: a2 was seen by both and counts once
    assert got.severity == Severity.HIGH
    assert got.first_seen == BEFORE
    assert got.last_seen == BEFORE + timedelta(minutes=40)
    for fid, count in ((dup, 2), (other, 1)):
        folded = row(dep, fid)
        assert (folded.status, folded.merged_into, folded.count, folded.is_open) == (
            "merged",
            target,
            count,
            False,
        )
    with dep.store.reader() as s:
        keys = set(
            s.scalars(select(FindingOccurrence.key).where(FindingOccurrence.finding_id == target))
        )
    assert keys == {"a1", "a2", "b1", "c1"}
    # The detector seeing the folded finding's old events again changes nothing.
    with dep.store.session() as s:
        again = record_findings(s, [finding("ws-01-edr", Severity.HIGH, keys=("a2", "b1"))])
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    assert row(dep, dup).status == "merged"
    with pytest.raises(ConflictError, match="is merged"), dep.store.session() as s:
        merge_findings(s, dep.system(), target, [dup])
    with pytest.raises(ValidationError, match="into itself"), dep.store.session() as s:
        merge_findings(s, dep.system(), target, [target])
    assert actions(dep) == ["finding.merge"]


def test_escalate_opens_a_case_due_by_the_phase_response_time(any_deployment: Deployment) -> None:
    dep = any_deployment
    a, b = add(
        dep,
        finding("voters-srv", Severity.HIGH, rule="sigma-ransom-note", minutes=5),
        finding("voters-srv-2", Severity.MEDIUM, unit="C01-POL"),
    )
    actor = officer(dep, "C01")
    with dep.store.session() as s:
        case = escalate(s, actor, [b, a], dep.policy(BEFORE), BEFORE)
        case_id = case.id
    with dep.store.reader() as s:
        case = get_case(s, actor, case_id)
        assert case.number == "VV-2026-0001"
        assert (case.severity, case.unit, case.status) == (Severity.HIGH, "C01", "open")
        assert case.due_at == BEFORE + timedelta(hours=8)  # 'before': high is due in 8 hours
        assert case.playbook == "ransomware_voter_list"
        assert case.title == "title voters-srv (+1)"
        assert case.created_by == actor.username
        steps = list(
            s.scalars(
                select(CaseStep).where(CaseStep.case_id == case_id).order_by(CaseStep.position)
            )
        )
        assert [st.position for st in steps] == list(range(1, 10))
        assert steps[0].title_en.startswith("Isolate the server")
        events = list(
            s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id))
        )
        assert [(e.kind, e.detail.get("finding")) for e in events] == [
            ("opened", None),
            ("escalated", a),
            ("escalated", b),
        ]
    for fid in (a, b):
        got = row(dep, fid)
        assert (got.status, got.case_id, got.is_open) == ("escalated", case_id, False)
    with pytest.raises(ConflictError, match="is escalated"), dep.store.session() as s:
        escalate(s, actor, [a], dep.policy(BEFORE), BEFORE)
    assert actions(dep) == ["finding.escalate"]


def test_escalate_during_voting_is_due_sooner_and_numbers_count_up(deployment: Deployment) -> None:
    a, b, c = add(
        deployment,
        finding("x", Severity.HIGH, unit="C01"),
        finding("y", Severity.CRITICAL, unit="C02"),
        finding("z", Severity.LOW, unit="D01", rule="phishing-wave"),
    )
    admin = deployment.system()
    with deployment.store.session() as s:
        first = escalate(s, admin, [a], deployment.policy(DURING), DURING, title="Host x")
        second = escalate(s, admin, [b, c], deployment.policy(DURING), DURING)
        assert (first.number, first.due_at, first.playbook) == (
            "VV-2026-0001",
            DURING + timedelta(hours=1),
            "malware_host",  # a monitor finding that no pattern names: its capability decides
        )
        # C02 and D01 meet only at the province; critical in 'during' is due in 30 minutes.
        assert (second.number, second.unit, second.severity) == (
            "VV-2026-0002",
            "P01",
            Severity.CRITICAL,
        )
        assert second.due_at == DURING + timedelta(minutes=30)
        # The critical finding has no playbook; the low one does, so that one is used.
        assert second.playbook == "phishing_staff"


def test_escalate_with_owner_and_playbook_checks_both(deployment: Deployment) -> None:
    a, b = add(deployment, finding("x"), finding("y"))
    with deployment.store.session() as s:
        create_user(s, deployment.units, "lan", "long-password-1", Role.DUTY_OFFICER, "C01")
        create_user(s, deployment.units, "minh", "long-password-1", Role.DUTY_OFFICER, "C02")
        create_user(s, deployment.units, "viewer1", "long-password-1", Role.VIEWER, "P01")
    admin = deployment.system()
    with (
        pytest.raises(NotFoundError, match="unknown playbook 'nope'"),
        deployment.store.session() as s,
    ):
        escalate(s, admin, [a], deployment.policy(), BEFORE, playbook="nope")
    with (
        pytest.raises(PermissionDenied, match="outside the scope of minh"),
        deployment.store.session() as s,
    ):
        escalate(s, admin, [a], deployment.policy(), BEFORE, owner="minh")
    with (
        pytest.raises(ValidationError, match="may not work cases"),
        deployment.store.session() as s,
    ):
        escalate(s, admin, [a], deployment.policy(), BEFORE, owner="viewer1")
    with deployment.store.session() as s:
        case = escalate(
            s, admin, [a], deployment.policy(), BEFORE, playbook="phishing_staff", owner="lan"
        )
        kinds = [e.kind for e in s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))]
        assert (case.owner, case.playbook, case.number) == ("lan", "phishing_staff", "VV-2026-0001")
        assert kinds == ["opened", "assigned", "escalated"]
    assert row(deployment, b).status == "new"


def test_escalate_asks_for_a_playbook_when_none_fits(deployment: Deployment) -> None:
    """An inspection finding fits no playbook: escalating it without one opens nothing."""
    (a,) = add(deployment, finding("srv-1", capability="inspect", rule="control-failed"))
    admin = deployment.system()
    with (
        pytest.raises(PlaybookNeeded, match="no playbook fits the selected alerts"),
        deployment.store.session() as s,
    ):
        escalate(s, admin, [a], deployment.policy(), BEFORE)
    with deployment.store.reader() as s:
        assert s.scalar(select(Case.id)) is None
        assert (row(deployment, a).status, actions(deployment)) == ("new", [])
    with deployment.store.session() as s:  # chosen by the officer, it opens with its steps
        case = escalate(s, admin, [a], deployment.policy(), BEFORE, playbook="malware_host")
        number = case.number
        steps = s.scalars(select(CaseStep).where(CaseStep.case_id == case.id)).all()
    assert (number, len(steps), row(deployment, a).status) == ("VV-2026-0001", 8, "escalated")


def test_link_raises_severity_and_keeps_the_due_time(deployment: Deployment) -> None:
    a, b, c = add(
        deployment,
        finding("x", Severity.MEDIUM, unit="C01"),
        finding("y", Severity.CRITICAL, unit="C01-POL"),
        finding("z", Severity.HIGH, unit="C02"),
    )
    admin = deployment.system()
    with deployment.store.session() as s:
        case = escalate(s, admin, [a], deployment.policy(), BEFORE)
        due = case.due_at
        linked = link_findings(s, admin, case.id, [b])
        assert [r.id for r in linked] == [b]
        assert (case.severity, case.due_at) == (Severity.CRITICAL, due)
        case_id = case.id
    with (
        pytest.raises(ValidationError, match="outside case unit C01"),
        deployment.store.session() as s,
    ):
        link_findings(s, admin, case_id, [c])
    with pytest.raises(ConflictError, match="already in case"), deployment.store.session() as s:
        link_findings(s, admin, case_id, [b])
    with deployment.store.session() as s:
        unlink_finding(s, admin, case_id, b)
    assert (row(deployment, b).status, row(deployment, b).case_id) == ("acknowledged", None)
    with deployment.store.reader() as s:
        kinds = [
            e.kind
            for e in s.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
            )
        ]
        assert kinds == ["opened", "escalated", "finding_linked", "note"]
        assert verify_chain(s) == []
        assert s.scalar(select(Case.number)) == "VV-2026-0001"
    assert actions(deployment) == ["finding.escalate", "case.link", "case.unlink"]


def test_analyst_may_escalate_but_not_outside_scope(deployment: Deployment) -> None:
    a, b = add(deployment, finding("x", unit="C01"), finding("y", unit="C02"))
    analyst = officer(deployment, "C01", Role.ANALYST)
    with pytest.raises(NotFoundError, match=f"^no finding {b}$"), deployment.store.session() as s:
        escalate(s, analyst, [a, b], deployment.policy(), BEFORE)
    assert row(deployment, a).status == "new"
    with deployment.store.session() as s:
        case = escalate(s, analyst, [a], deployment.policy(), BEFORE)
        assert case.unit == "C01"
