"""The duty room's demo: roster with one planted hole, two cases, and detectors that find both."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.conftest import BEFORE
from vigil.cases.models import Case, CaseStep, DutyShift, HandoverNote
from vigil.cases.plugin import vigil_demo, vigil_demo_order
from vigil.core.access import Role
from vigil.core.finding import Finding
from vigil.core.severity import Severity
from vigil.deployment import Deployment
from vigil.detection import run_detectors
from vigil.plugins import DemoContext
from vigil.store.findings import record_findings
from vigil.store.models import FindingRow
from vigil.store.users import create_user


def test_demo_roster_cases_and_ground_truth_are_found(deployment: Deployment) -> None:
    dep = deployment
    with dep.store.session() as s:
        for name in ("duty1", "duty2", "duty3", "duty4"):
            create_user(s, dep.units, name, "long-password-1", Role.DUTY_OFFICER, "P01")
        create_user(s, dep.units, "c01.duty", "long-password-1", Role.DUTY_OFFICER, "C01")
        record_findings(
            s,
            [
                Finding(
                    "monitor",
                    "sigma-ransom-note",
                    Severity.CRITICAL,
                    "C01",
                    "voters-srv",
                    "Ransom note",
                    observed_at=BEFORE - timedelta(days=3),
                ),
                Finding(
                    "monitor",
                    "sigma-new",
                    Severity.CRITICAL,
                    "C02",
                    "fresh",
                    "Too new to be late",
                    observed_at=BEFORE,
                ),
            ],
        )
    ctx = DemoContext(deployment=dep, seed=7, persons=100)
    vigil_demo(ctx)
    assert vigil_demo_order() == 90
    with dep.store.reader() as s:
        shifts = list(s.scalars(select(DutyShift).order_by(DutyShift.starts)))
        cases = list(s.scalars(select(Case).order_by(Case.id)))
        notes = list(s.scalars(select(HandoverNote)))
    assert len(shifts) == 15 * 3 - 1
    assert {sh.username for sh in shifts} == {"duty1", "duty2", "duty3", "duty4"}  # not c01.duty
    assert [(c.number, c.playbook, c.owner) for c in cases] == [
        ("VV-2026-0001", "ransomware_voter_list", "duty1"),
        ("VV-2026-0002", "phishing_staff", "duty1"),
    ]
    assert cases[0].due_at < BEFORE < cases[1].due_at
    with dep.store.reader() as s:  # the overdue case carries its playbook's steps, one done
        steps = list(s.scalars(select(CaseStep).where(CaseStep.case_id == cases[0].id)))
    assert (len(steps), [st.position for st in steps if st.done]) == (9, [1])
    assert len(notes) == 1 and notes[0].shift_id is not None
    assert [(t.capability, t.rule, t.subject, t.unit) for t in ctx.truth] == [
        ("cases", "duty-gap", "2026-02-03 23:00 → 2026-02-04 07:00 (UTC+7)", "P01"),
        ("cases", "case-overdue", "VV-2026-0001", "C01"),
    ]
    assert [r.error for r in run_detectors(dep, {"cases"})] == [None]
    with dep.store.reader() as s:
        found = set(
            s.execute(
                select(
                    FindingRow.capability, FindingRow.rule, FindingRow.subject, FindingRow.unit
                ).where(FindingRow.capability == "cases")
            ).all()
        )
    assert found == {(t.capability, t.rule, t.subject, t.unit) for t in ctx.truth}
    # Running the demo again leaves the roster alone.
    vigil_demo(DemoContext(deployment=dep, seed=7, persons=100))
    with dep.store.reader() as s:
        assert s.scalar(select(func.count()).select_from(DutyShift)) == 44


def test_demo_without_duty_officers_does_nothing(deployment: Deployment) -> None:
    ctx = DemoContext(deployment=deployment, seed=7, persons=100)
    vigil_demo(ctx)
    assert ctx.truth == []
    with deployment.store.reader() as s:
        assert s.scalar(select(func.count()).select_from(DutyShift)) == 0
        assert s.scalar(select(func.count()).select_from(Case)) == 0
