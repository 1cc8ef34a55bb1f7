"""An edge of the inspection room: its part of the demo province.

Every department (election systems) and commune police office (population data) gets a past
inspection half a year ago (so trends show) and one closed twenty days ago whose evidence is real
files: backup manifests (some stale, unverified or without an offline copy), incident-response
plans (some missing a section or an exercise date within the year, a few as DOCX), Lynis
reports (some below the baseline or with warnings) and `pip freeze` inventories with real
package versions (some vulnerable according to the PyPI advisories of ../shared/data/osv, which
the demo imports for those packages only, with the KEV catalog). What is planted is decided by
the unit's place in the list, so the ground truth is known before any check runs; a vulnerable
component's advisories are read from the advisories' explicit version lists, not from the
matcher under test.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import yaml
from sqlalchemy.orm import Session

import vigil
from vigil.core.access import Actor
from vigil.core.clock import to_utc
from vigil.core.units import UnitKind
from vigil.deployment import Deployment
from vigil.inspect.controls.catalog import Catalog, builtin_catalog
from vigil.inspect.vulns.osv import import_path
from vigil.inspect.workflow import inspections as wf
from vigil.inspect.workflow.evidence import CheckContext, attach_evidence
from vigil.inspect.workflow.findings import CAPABILITY, CONTROL_RULE, VULN_RULE
from vigil.plugins import DemoContext, Scenario, scenarios

log = logging.getLogger(__name__)
SHARED_DATA_ENV = "VIGIL_SHARED_DATA"
ELECTION, COMMUNE = "election-systems", "commune-population-office"
SAFE = {"requests": "2.32.3", "pyyaml": "6.0.2", "urllib3": "2.2.3", "jinja2": "3.1.4"}
VULNERABLE = [("requests", "2.19.0"), ("pyyaml", "5.3.1"), ("urllib3", "1.26.4")]


def shared_data_dir() -> Path | None:
    named = os.environ.get(SHARED_DATA_ENV)
    path = Path(named) if named else Path(vigil.__file__).resolve().parents[3] / "shared" / "data"
    return path if path.is_dir() else None


@dataclass
class Plan:
    """What one unit's current inspection plants."""

    backup: str = ""  # "", stale, unverified, no-offline-copy
    ir_missing: str = ""  # a section left out
    exercise_stale: bool = False
    low_index: bool = False
    warning: bool = False
    vulnerable: tuple[str, str] | None = None
    manual_fail: list[str] = field(default_factory=list)


def plan_for(i: int) -> Plan:
    return Plan(
        backup=("stale", "unverified", "no-offline-copy", "", "", "")[i % 6],
        ir_missing="containment" if i % 4 == 3 else "",
        exercise_stale=i % 7 == 4,
        low_index=i % 5 == 2,
        warning=i % 8 == 1,
        vulnerable=VULNERABLE[i % 3] if i % 4 == 1 else None,
        manual_fail=["STF-2"] if i % 9 == 5 else [],
    )


def _manifest(folder: Path, code: str, kind: str, at: datetime) -> Path:
    offline = kind != "no-offline-copy"
    doc = {
        "system": f"{code} data",
        "last_backup": (at - timedelta(days=5 if kind == "stale" else 0, hours=6)).isoformat()
        + "Z",
        "last_verification": {
            "kind": "metadata" if kind == "unverified" else "test-restore",
            "at": (at - timedelta(days=20)).isoformat() + "Z",
            "ok": True,
        },
        "copies": [
            {"location": "server room", "medium": "disk"},
            {"location": "province data centre", "medium": "disk", "offsite": True},
            {"location": "safe", "medium": "tape", "offline": offline, "offsite": True},
        ],
    }
    path = folder / f"{code}-backup.json"
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


_SECTIONS = {
    "roles": "Vai trò và liên lạc 24/7",
    "detection": "Phát hiện",
    "containment": "Ngăn chặn",
    "eradication": "Loại bỏ",
    "recovery": "Khôi phục",
    "communication": "Thông báo, truyền thông",
}


def _ir_plan(folder: Path, code: str, plan: Plan, known: list[Scenario], docx: bool) -> Path:
    exercised = "2025-10-02" if plan.exercise_stale else "2026-11-18"
    blocks: list[tuple[str, str]] = []
    for key, title in _SECTIONS.items():
        if key == plan.ir_missing:
            continue
        text = (
            "Trực 24/7: 0912 345 678 (trưởng ca), 0987 654 321 (chỉ huy)."
            if key == "roles"
            else "Quy trình của đơn vị."
        )
        blocks.append((title, text))
    blocks.append(("Kịch bản bầu cử", "\n".join(f"- {s.title_vi}" for s in known)))
    blocks.append(("Diễn tập", f"Lần diễn tập gần nhất: {exercised}."))
    if docx:
        import docx as python_docx

        document = python_docx.Document()
        document.add_heading(f"Phương án ứng phó sự cố {code}", 0)
        for title, text in blocks:
            document.add_heading(title, 1)
            for line in text.splitlines():
                document.add_paragraph(line)
        path = folder / f"{code}-ir-plan.docx"
        document.save(str(path))
        return path
    path = folder / f"{code}-ir-plan.md"
    body = "\n\n".join(f"## {t}\n{x}" for t, x in blocks)
    path.write_text(f"# Phương án ứng phó sự cố {code}\n\n{body}\n", encoding="utf-8")
    return path


def _lynis(folder: Path, code: str, plan: Plan) -> Path:
    lines = [
        "# Lynis Report",
        f"hostname={code.lower()}-srv01",
        "lynis_tests_done=236",
        f"hardening_index={58 if plan.low_index else 72}",
        "suggestion[]=SSH-7408|Consider hardening SSH configuration|AllowTcpForwarding|-|",
    ]
    if plan.warning:
        lines.append("warning[]=FIRE-4512|iptables module(s) loaded, but no rules active|-|-|")
    path = folder / f"{code}-report.dat"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _inventory(folder: Path, code: str, plan: Plan) -> Path:
    pins = dict(SAFE)
    if plan.vulnerable:
        pins[plan.vulnerable[0]] = plan.vulnerable[1]
    path = folder / f"{code}-requirements.txt"
    path.write_text("".join(f"{n}=={v}\n" for n, v in sorted(pins.items())), encoding="utf-8")
    return path


def listed_advisories(osv: Path, name: str, version: str) -> list[str]:
    """Advisories of `name` that list `version` explicitly (the demo's ground truth)."""
    out = []
    for path in sorted((osv / "pypi" / "vulns" / name).glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        if any(version in (a.get("versions") or []) for a in doc.get("affected", [])):
            out.append(str(doc["id"]))
    return out


def _answer_manual(
    session: Session,
    actor: Actor,
    catalog: Catalog,
    inspection_id: int,
    profile: str,
    fails: list[str],
    dep: Deployment,
) -> None:
    for control in catalog.controls_of(catalog.profile(profile)):
        if control.check != "manual":
            continue
        status = "fail" if control.id in fails else "pass"
        wf.record_answer(
            session,
            actor,
            catalog,
            inspection_id,
            control.id,
            status,
            note="demo checklist",
            source="checklist",
            now=dep.now(),
        )


def _plant(ctx: DemoContext, unit: str, plan: Plan, profile: str, osv: Path | None) -> None:
    catalog = builtin_catalog()
    wanted = set(catalog.profile(profile).controls)
    shortfalls = {
        "DAT-1": plan.backup,
        "OPS-3": plan.ir_missing,
        "OPS-4": plan.exercise_stale,
        "SRV-1": plan.low_index,
        "SRV-2": plan.warning,
        "RSK-2": bool(plan.vulnerable and osv is not None),
        **dict.fromkeys(plan.manual_fail, True),
    }
    for control, planted in shortfalls.items():
        if planted and control in wanted:
            ctx.plant(CAPABILITY, CONTROL_RULE, control, unit, f"{control}: {planted}")
    if plan.vulnerable and osv is not None:
        name, version = plan.vulnerable
        for advisory in listed_advisories(osv, name, version):
            subject = f"PyPI/{name}@{version} {advisory}"
            ctx.plant(CAPABILITY, VULN_RULE, subject, unit, f"{name} {version}")


def _import_osv(dep: Deployment) -> Path | None:
    shared = shared_data_dir()
    osv = shared / "osv" if shared else None
    if osv is None or not (osv / "pypi" / "vulns").is_dir():
        log.warning("demo inventories not matched: no ../shared/data/osv (set %s)", SHARED_DATA_ENV)
        return None
    for name in sorted({n for n, _v in VULNERABLE} | set(SAFE)):
        import_path(dep.lake, dep.quarantine, osv / "pypi" / "vulns" / name)
    kev = shared / "kev" / "known_exploited_vulnerabilities.json" if shared else None
    if kev is not None and kev.is_file():
        import_path(dep.lake, dep.quarantine, kev)
    return osv


def build_demo(ctx: DemoContext) -> None:
    dep = ctx.deployment
    actor = dep.system("inspector")
    catalog = builtin_catalog()
    osv = _import_osv(dep)
    known = scenarios()
    now = to_utc(dep.now())
    folder = dep.settings.data / "demo" / "inspect"
    folder.mkdir(parents=True, exist_ok=True)
    units = [(u.code, ELECTION) for u in dep.units.of_kind(UnitKind.DEPARTMENT)]
    units += [(u.code, COMMUNE) for u in dep.units.of_kind(UnitKind.COMMUNE_POLICE)]
    past_at, current_at = now - timedelta(days=180), now - timedelta(days=20)
    store = dep.settings.data / "inspect" / "evidence"
    with dep.store.session() as session:
        for i, (unit, profile) in enumerate(units):
            past = wf.plan_inspection(session, actor, catalog, unit, profile, past_at)
            _answer_manual(
                session, actor, catalog, past.id, profile, ["OPS-1", "DAT-2"][: i % 3], dep
            )
            for item in wf.close_inspection(session, actor, catalog, past.id, past_at):
                wf.complete_remediation(session, actor, item.id, past_at + timedelta(days=30))
            plan = plan_for(i)
            row = wf.plan_inspection(session, actor, catalog, unit, profile, current_at)
            _answer_manual(session, actor, catalog, row.id, profile, plan.manual_fail, dep)
            ctx_check = CheckContext(dep.lake if osv else None, known, current_at)
            files = [
                ("backup", _manifest(folder, unit, plan.backup, current_at)),
                ("irplan", _ir_plan(folder, unit, plan, known, docx=i % 5 == 0)),
                ("lynis", _lynis(folder, unit, plan)),
            ]
            if osv is not None:
                files.append(("inventory", _inventory(folder, unit, plan)))
            for kind, path in files:
                attach_evidence(session, actor, catalog, row.id, kind, path, store, ctx_check)
            wf.close_inspection(
                session, actor, catalog, row.id, current_at, owner=f"Thủ trưởng {unit}"
            )
            _plant(ctx, unit, plan, profile, osv)
