"""The inspection workflow: plan, answer (form, YAML and XLSX checklists), evidence, scorecard,
level, trend, closing with remediation items, findings, and an overdue item's raised severity."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import BEFORE
from vigil.core.access import Actor, Role
from vigil.core.errors import ConflictError, PermissionDenied, ValidationError
from vigil.core.severity import Severity
from vigil.deployment import Deployment
from vigil.detection import run_detectors
from vigil.inspect.controls.catalog import builtin_catalog
from vigil.inspect.evidence.checklist import read_checklist, write_checklist_xlsx
from vigil.inspect.workflow import inspections as wf
from vigil.inspect.workflow.evidence import CheckContext, attach_evidence
from vigil.plugins import scenarios
from vigil.store.models import FindingRow

COMMUNE = "commune-population-office"


def _inspector(
    unit: str = "P01", scope: frozenset[str] = frozenset({"P01", "D01", "C01", "C01-POL", "C02"})
) -> Actor:
    return Actor("insp", Role.INSPECTOR, unit, scope)


def _answer_all(session, inspection_id: int, status: str = "pass", **overrides: str) -> None:  # type: ignore[no-untyped-def]
    catalog = builtin_catalog()
    inspection = wf.get_inspection(session, _inspector(), inspection_id)
    for cid in catalog.profile(inspection.profile).controls:
        wf.record_answer(
            session,
            _inspector(),
            catalog,
            inspection_id,
            cid,
            overrides.get(cid.replace("-", "_"), status),
            now=BEFORE,
        )


def test_scorecard_level_and_trend(deployment: Deployment) -> None:
    catalog = builtin_catalog()
    with deployment.store.session() as s:
        first = wf.plan_inspection(
            s, _inspector(), catalog, "C01-POL", COMMUNE, BEFORE - timedelta(days=200)
        )
        _answer_all(s, first.id, DAT_1="fail", OPS_4="partial", SRV_1="na")
        card = wf.scorecard_of(s, catalog, first)
        # 20 controls, one not applicable: 17 pass, 1 partial, 1 fail of 19.
        assert card.overall == round(100 * 17.5 / 19, 1)
        assert card.level == 0  # DAT-1 is a level-1 control
        assert card.group("data").score == 75.0  # DAT-1 to DAT-4, one failed
        wf.close_inspection(s, _inspector(), catalog, first.id, BEFORE - timedelta(days=199))
        second = wf.plan_inspection(s, _inspector(), catalog, "C01-POL", COMMUNE, BEFORE)
        _answer_all(s, second.id, OPS_4="fail")
        view = wf.view_inspection(s, catalog, second)
    assert view.scorecard.level == 1  # OPS-4 starts at level 2
    assert view.trend is not None
    assert view.trend.previous_level == 0 and view.trend.level_change == 1
    assert view.trend.overall_change == round(view.scorecard.overall - card.overall, 1)
    assert view.trend.group_changes["data"] == 25.0


def test_closing_opens_remediation_and_findings_rise_when_overdue(deployment: Deployment) -> None:
    catalog = builtin_catalog()
    with deployment.store.session() as s:
        row = wf.plan_inspection(s, _inspector(), catalog, "C01-POL", COMMUNE, BEFORE)
        _answer_all(s, row.id, DAT_1="fail", STF_1="partial")
        items = wf.close_inspection(
            s, _inspector(), catalog, row.id, BEFORE, owner="Trưởng công an xã"
        )
        assert [(i.control, i.due_at - BEFORE) for i in items] == [
            ("STF-1", timedelta(days=30)),
            ("DAT-1", timedelta(days=7)),
        ]
        with pytest.raises(ConflictError):
            wf.record_answer(s, _inspector(), catalog, row.id, "DAT-1", "pass", now=BEFORE)
    run_detectors(deployment, only={"inspect"})
    with deployment.store.reader() as s:
        found = {
            f.subject: f
            for f in s.scalars(select(FindingRow).where(FindingRow.capability == "inspect"))
        }
    assert set(found) == {"STF-1", "DAT-1"}
    assert found["DAT-1"].severity == Severity.CRITICAL
    assert found["STF-1"].severity == Severity.MEDIUM
    assert found["STF-1"].evidence["owner"] == "Trưởng công an xã"
    # Thirty-one days on, STF-1 is overdue: the same finding, one step more severe.
    deployment.clock = BEFORE + timedelta(days=31)
    run_detectors(deployment, only={"inspect"})
    with deployment.store.reader() as s:
        stf = s.scalars(select(FindingRow).where(FindingRow.subject == "STF-1")).one()
    assert stf.severity == Severity.HIGH and stf.count == 2 and stf.evidence["overdue"] is True
    assert "overdue" in stf.title
    run_detectors(deployment, only={"inspect"})  # a rerun adds nothing
    with deployment.store.reader() as s:
        assert s.scalars(select(FindingRow).where(FindingRow.subject == "STF-1")).one().count == 2
    with deployment.store.session() as s:
        wf.complete_remediation(s, _inspector(), items[0].id, BEFORE + timedelta(days=32))
        assert [i.control for i in wf.remediation_items(s, _inspector())] == ["DAT-1"]


def test_scope_and_roles(deployment: Deployment) -> None:
    catalog = builtin_catalog()
    with deployment.store.session() as s:
        with pytest.raises(PermissionDenied):
            wf.plan_inspection(
                s,
                Actor("v", Role.VIEWER, "P01", frozenset({"P01"})),
                catalog,
                "P01",
                COMMUNE,
                BEFORE,
            )
        with pytest.raises(PermissionDenied):
            wf.plan_inspection(
                s, _inspector("C02", frozenset({"C02"})), catalog, "C01-POL", COMMUNE, BEFORE
            )
        row = wf.plan_inspection(s, _inspector(), catalog, "C01-POL", COMMUNE, BEFORE)
        with pytest.raises(ValidationError, match="not in profile"):
            wf.record_answer(s, _inspector(), catalog, row.id, "NET-4", "pass", now=BEFORE)


def test_checklists_yaml_and_xlsx(tmp_path: Path) -> None:
    yaml_path = tmp_path / "filled.yaml"
    yaml_path.write_text(
        "answers:\n"
        "  - {control: DAT-1, status: đạt}\n"
        "  - {control: DAT-2, status: Không đạt, note: shared account}\n"
        "  - {control: DAT-3, status: maybe}\n"
        "  - {status: pass}\n",
        encoding="utf-8",
    )
    rows, problems = read_checklist(yaml_path)
    assert [(r.control, r.status, r.note) for r in rows] == [
        ("DAT-1", "pass", ""),
        ("DAT-2", "fail", "shared account"),
    ]
    assert [(p.location.line, p.message) for p in problems] == [
        (4, "control DAT-3: unknown status 'maybe'"),
        (5, "no control id"),
    ]
    xlsx = tmp_path / "filled.xlsx"
    write_checklist_xlsx(
        xlsx,
        [("OPS-1", "Inventory", "pass"), ("OPS-2", "Updates", "n/a"), ("OPS-3", "IR plan", "?")],
    )
    rows, problems = read_checklist(xlsx)
    assert [(r.control, r.status) for r in rows] == [("OPS-1", "pass"), ("OPS-2", "na")]
    assert [(p.location.line, p.code) for p in problems] == [(4, "status")]


PLAN = """\
# Incident response plan
## Roles and responsibilities
Duty officer 24/7: 0912 345 678.
## Detection
## Containment
## Recovery
## Communication
## Scenarios
{scenarios}
Last exercise: 2025-11-20 (tabletop).
"""


def test_ir_plan_missing_a_section_fails_the_right_control(
    deployment: Deployment, tmp_path: Path
) -> None:
    catalog = builtin_catalog()
    known = scenarios()
    assert len(known) == 7  # the duty room's playbooks, through the vigil_scenarios seam
    plan = tmp_path / "plan.md"
    plan.write_text(
        PLAN.format(scenarios="\n".join(f"- {s.title_en}" for s in known)), encoding="utf-8"
    )
    ctx = CheckContext(None, known, BEFORE)
    with deployment.store.session() as s:
        row = wf.plan_inspection(s, _inspector(), catalog, "C01-POL", COMMUNE, BEFORE)
        _ev, verdicts = attach_evidence(
            s, _inspector(), catalog, row.id, "irplan", plan, tmp_path / "store", ctx
        )
        answers = wf.answers_of(s, row.id)
    assert [(v.check, v.status, v.codes) for v in verdicts] == [
        ("irplan", "fail", ["missing-eradication"]),
        ("irplan-exercise", "pass", []),
    ]
    assert answers["OPS-3"].status == "fail" and answers["OPS-3"].source == "check:irplan"
    assert answers["OPS-4"].status == "pass"
