"""Run the quality rules over the registry in the lake and turn each failure into a Finding.

Record rules look only at batches they have not checked yet (the marks go back with the
findings, saved in the same transaction); rules across records (households, the dead, the same
person twice) look at everything, and only when some batch is new. A Finding is of capability
`registry` on the commune; its subject is the record's id (for two records, both ids sorted and
joined by " ~ "); personal values sit under evidence["personal"], masked when shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.core.clock import local_day
from vigil.core.finding import Finding
from vigil.core.personal import PERSONAL_KEY
from vigil.core.units import UnitKind
from vigil.deployment import Deployment
from vigil.lake.datasets import Lake
from vigil.registry.datasets import DEATHS, HOUSEHOLDS, PERSONS
from vigil.registry.models import RegistryCheckedBatch
from vigil.registry.rules.catalog import Catalog, QualityRule, load_catalog

CAPABILITY = "registry"
PAIR_SEPARATOR = " ~ "

#: Told (rule name) as each rule starts.
Progress = Callable[[str], None]


@dataclass
class CheckResult:
    findings: list[Finding] = field(default_factory=list)
    new_batches: list[tuple[str, str]] = field(default_factory=list)
    #: Rule name -> failures.
    counts: dict[str, int] = field(default_factory=dict)

    def save_progress(self, session: Session) -> None:
        for dataset, batch in self.new_batches:
            session.merge(RegistryCheckedBatch(dataset=dataset, batch=batch))


def checked_batches(session: Session) -> set[tuple[str, str]]:
    rows = session.execute(select(RegistryCheckedBatch.dataset, RegistryCheckedBatch.batch))
    return {(r.dataset, r.batch) for r in rows}


def units_table(deployment: Deployment) -> pa.Table:
    """(commune, village) of every village of the deployment, and (commune, NULL) rows."""
    units = deployment.units
    communes: list[str] = []
    villages: list[str | None] = []
    for commune in units.of_kind(UnitKind.COMMUNE):
        for child in units.children(commune.code):
            if child.kind == UnitKind.VILLAGE:
                communes.append(commune.code)
                villages.append(child.code)
        communes.append(commune.code)
        villages.append(None)
    return pa.table(
        {"commune": pa.array(communes, pa.string()), "village": pa.array(villages, pa.string())}
    )


def register_views(lake: Lake, deployment: Deployment, new_persons: list[str]) -> None:
    engine = lake.engine
    for view, dataset in (("persons", PERSONS), ("households", HOUSEHOLDS), ("deaths", DEATHS)):
        engine.register(view, lake.files(dataset))
    engine.register("persons_new", new_persons)
    engine.register_arrow("registry_units", units_table(deployment))


def finding_of(rule: QualityRule, row: dict[str, Any], fallback_unit: str, when: Any) -> Finding:
    personal = {k[2:]: v for k, v in row.items() if k.startswith("p_") and v is not None}
    evidence: dict[str, Any] = {
        k: v for k, v in row.items() if k not in ("subject", "unit") and not k.startswith("p_")
    }
    evidence["word"] = rule.word
    if personal:
        evidence[PERSONAL_KEY] = personal
    return Finding(
        capability=CAPABILITY,
        rule=rule.name,
        severity=rule.severity,
        unit=str(row.get("unit") or fallback_unit),
        subject=str(row["subject"]),
        title=rule.title,
        title_vi=rule.title_vi,
        evidence=evidence,
        observed_at=when,
    )


def run_sql_rule(
    lake: Lake, rule: QualityRule, catalog: Catalog, today: date
) -> list[dict[str, Any]]:
    sql = rule.query(lake.dialect, catalog.required_fields)
    params = {"today": today} if "$today" in sql else None
    rows: list[dict[str, Any]] = lake.engine.query(sql, params).to_pylist()
    return rows


def check_registry(
    deployment: Deployment,
    *,
    progress: Progress | None = None,
    everything: bool = False,
    catalog: Catalog | None = None,
) -> CheckResult:
    """Every rule over what is new (with `everything`, over every record again)."""
    from vigil.registry.rules.clean import clean_findings

    catalog = catalog or load_catalog()
    lake = deployment.lake
    result = CheckResult()
    with deployment.store.reader() as session:
        done = set() if everything else checked_batches(session)
    batches = [(d, b) for d in (PERSONS, HOUSEHOLDS, DEATHS) for b in lake.batches(d)]
    result.new_batches = [key for key in batches if key not in done]
    if not result.new_batches or not lake.files(PERSONS):
        return result
    new_persons = [
        str(lake.folder(PERSONS) / f"{b}.parquet") for d, b in result.new_batches if d == PERSONS
    ]
    register_views(lake, deployment, new_persons)
    when, today = deployment.now(), local_day(deployment.now())
    root = deployment.units.root.code
    for rule in catalog.rules:
        if progress:
            progress(rule.name)
        if rule.kind != "sql" or (rule.scope == "record" and not new_persons):
            continue
        rows = run_sql_rule(lake, rule, catalog, today)
        result.counts[rule.name] = len(rows)
        result.findings += [finding_of(rule, row, root, when) for row in rows]
    for finding in clean_findings(deployment, catalog, when):
        result.counts[finding.rule] = result.counts.get(finding.rule, 0) + 1
        result.findings.append(finding)
    return result
