"""Evidence attached to an inspection, and the automated checks that answer controls from it.

The file is kept under `<data>/inspect/evidence/<sha256>/` (a restic repository is referred to by
its path, not copied); its check's verdicts become the answers of the profile's controls that
name that check (source `check:<kind>`), with the reasons as the answer's note and detail.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from vigil.core.access import Actor
from vigil.core.clock import to_utc
from vigil.core.errors import ValidationError
from vigil.inspect.controls.catalog import Catalog
from vigil.inspect.errors import EvidenceError
from vigil.inspect.evidence.backups import ResticRepo, check_backup
from vigil.inspect.evidence.irplan import check_plan
from vigil.inspect.evidence.lynis import check_lynis
from vigil.inspect.evidence.verdict import Verdict
from vigil.inspect.models import Evidence
from vigil.inspect.vulns.inventories import read_inventory
from vigil.inspect.vulns.match import VulnMatch, match_inventory
from vigil.inspect.workflow.inspections import planned_inspection, record_answer
from vigil.lake.datasets import Lake
from vigil.plugins import Scenario

KINDS = ("backup", "irplan", "inventory", "lynis", "other")


@dataclass
class CheckContext:
    """What the checks need from outside: the lake (OSV data), the scenarios, the time."""

    lake: Lake | None
    scenarios: list[Scenario]
    now: datetime
    restic: ResticRepo | None = None


def vulns_verdict(matches: list[VulnMatch], components: int) -> Verdict:
    v = Verdict("vulns", "pass", detail={"components": components})
    v.detail["vulnerabilities"] = [m.as_dict() for m in matches]
    for m in matches:
        c = m.component
        fixed = ", ".join(m.advisory.fixed) or "none yet"
        kev = " (known exploited)" if m.known_exploited else ""
        v.short(
            f"vulnerable-{c.ecosystem}-{c.name}",
            f"{c.ecosystem} {c.name} {c.version}: {m.advisory.advisory}{kev}, fixed in {fixed}",
        )
    v.status = "fail" if matches else "pass"
    return v


def run_check(kind: str, path: Path, ctx: CheckContext) -> list[Verdict]:
    """The verdicts of one piece of evidence (none for kind 'other')."""
    if kind == "backup":
        return [check_backup(path, ctx.now, repo=ctx.restic)]
    if kind == "irplan":
        return check_plan(path, ctx.scenarios, ctx.now)
    if kind == "lynis":
        return check_lynis(path)
    if kind == "inventory":
        if ctx.lake is None:
            raise EvidenceError("matching an inventory needs the imported OSV data")
        components, _problems = read_inventory(path)
        return [vulns_verdict(match_inventory(ctx.lake, components), len(components))]
    return []


def _keep(path: Path, store: Path) -> tuple[str, Path]:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    folder = store / digest
    folder.mkdir(parents=True, exist_ok=True)
    kept = folder / path.name
    if not kept.exists():
        shutil.copyfile(path, kept)
    return digest, kept


def attach_evidence(
    session: Session,
    actor: Actor,
    catalog: Catalog,
    inspection_id: int,
    kind: str,
    path: Path,
    store: Path,
    ctx: CheckContext,
) -> tuple[Evidence, list[Verdict]]:
    """Keep the file, run its check, answer the controls the check covers."""
    if kind not in KINDS:
        raise ValidationError(f"unknown evidence kind {kind!r} ({', '.join(KINDS)})")
    inspection = planned_inspection(session, actor, inspection_id)
    if not path.is_file():
        raise EvidenceError(f"{path}: no such file")
    digest, kept = _keep(path, store)
    verdicts = run_check(kind, kept, ctx)
    result: dict[str, Any] = {"verdicts": [v.as_dict() for v in verdicts]}
    if ctx.restic is not None:
        result["restic_repository"] = str(ctx.restic.path)
    row = Evidence(
        inspection_id=inspection_id,
        kind=kind,
        filename=path.name[:300],
        sha256=digest,
        stored=str(kept),
        added_by=actor.username,
        added_at=to_utc(ctx.now),
        result=result,
    )
    session.add(row)
    session.flush()
    profile = catalog.profile(inspection.profile)
    for verdict in verdicts:
        for control in catalog.with_check(verdict.check):
            if control.id in profile.controls:
                record_answer(
                    session,
                    actor,
                    catalog,
                    inspection_id,
                    control.id,
                    verdict.status,
                    note="; ".join(verdict.reasons)[:4000],
                    source=f"check:{kind}",
                    detail={"evidence": row.id, **verdict.as_dict()},
                    now=ctx.now,
                )
    return row, verdicts
