"""Event search over the lake, and rule coverage by ATT&CK tactic."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.core.access import Actor, Permission
from vigil.deployment import Deployment
from vigil.monitor.detect.sigma.findings import attack_summary
from vigil.monitor.errors import MonitorError
from vigil.monitor.ingest.events import DATASET
from vigil.monitor.models import MonitorRule
from vigil.store.models import FindingRow


@dataclass(frozen=True)
class FieldFilter:
    """`name=value` (equal, ignoring case) or `name~value` (contains, ignoring case)."""

    name: str
    value: str
    contains: bool = False

    @classmethod
    def parse(cls, text: str) -> FieldFilter:
        cut = min((i for i in (text.find("="), text.find("~")) if i > 0), default=-1)
        if cut <= 0:
            raise MonitorError(f"bad field filter {text!r}: write name=value or name~value")
        return cls(text[:cut].strip(), text[cut + 1 :], contains=text[cut] == "~")


def search_events(
    deployment: Deployment,
    actor: Actor,
    *,
    host: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    filters: list[FieldFilter] | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Events newest first, only in units the actor sees, each with its non-empty fields."""
    actor.require(Permission.VIEW)
    files = deployment.lake.files(DATASET)
    if not files:
        return []
    schema = pa.unify_schemas([pq.read_schema(f) for f in files], promote_options="default")
    dataset = ds.dataset(files, schema=schema, format="parquet")
    expr = ds.field("unit").isin(sorted(actor.scope))
    if host:
        expr &= ds.field("host") == host
    if since:
        expr &= ds.field("ts") >= pa.scalar(since, pa.timestamp("us"))
    if until:
        expr &= ds.field("ts") < pa.scalar(until, pa.timestamp("us"))
    table = dataset.to_table(filter=expr)
    names = {n.lower(): n for n in table.column_names}
    for flt in filters or []:
        column = names.get(flt.name.lower())
        if column is None:
            return []
        text = pc.utf8_lower(table.column(column).cast(pa.string()))
        wanted = flt.value.lower()
        mask = pc.match_substring(text, wanted) if flt.contains else pc.equal(text, wanted)
        table = table.filter(pc.fill_null(mask, False))
    table = table.sort_by([("ts", "descending")]).slice(0, limit)
    return [{k: v for k, v in row.items() if v is not None} for row in table.to_pylist()]


@dataclass
class TacticCoverage:
    tactic: str
    rules: int = 0
    enabled: int = 0
    techniques: int = 0
    fired: int = 0


def coverage(session: Session, actor: Actor) -> list[TacticCoverage]:
    """Converted rules per ATT&CK tactic: how many, how many enabled, and how many have fired
    (on hosts of the actor's units)."""
    actor.require(Permission.VIEW)
    fired = set(
        session.scalars(
            select(FindingRow.rule)
            .where(FindingRow.capability == "monitor", FindingRow.unit.in_(sorted(actor.scope)))
            .group_by(FindingRow.rule)
            .having(func.count() > 0)
        )
    )
    table: dict[str, TacticCoverage] = {}
    techniques: dict[str, set[str]] = defaultdict(set)
    for rule in session.scalars(select(MonitorRule).where(MonitorRule.sql.is_not(None))):
        summary = attack_summary(rule.tags)
        for tactic in summary["tactics"] or ["(no tactic)"]:
            row = table.setdefault(tactic, TacticCoverage(tactic))
            row.rules += 1
            row.enabled += int(rule.enabled)
            row.fired += int(rule.id in fired)
            techniques[tactic].update(summary["techniques"])
    for tactic, row in table.items():
        row.techniques = len(techniques[tactic])
    return sorted(table.values(), key=lambda r: (-r.rules, r.tactic))
