"""Run every registered rule set over the events it has not seen yet, and record what matches.

Each rule set keeps the list of lake batches it has scanned (monitor_scans): new batches are the
lake's batches minus those. Findings and the scanned marks are written in one transaction, so a
crash means the batches are scanned again, which changes nothing (occurrences are event ids).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from time import perf_counter

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.core.access import Actor, Permission
from vigil.core.finding import Finding
from vigil.deployment import Deployment
from vigil.monitor.events import DATASET
from vigil.monitor.hosts import host_units
from vigil.monitor.models import MonitorRule, MonitorRuleSet, MonitorScan
from vigil.monitor.sigma.backend import FOLDED_SUFFIX, FULL_TEXT_COLUMN
from vigil.monitor.sigma.findings import EventRows, findings_from_hits
from vigil.monitor.sigma.runner import (
    CompiledRule,
    Hit,
    RuleRunner,
    RunStats,
    combine_batches,
    needed_columns,
    with_full_text,
)
from vigil.store.findings import RecordResult, record_findings

#: How far before the new events a correlation looks for older ones, at most.
MAX_CORRELATION_REACH = timedelta(days=2)


@dataclass
class RuleSetScan:
    ruleset: str
    batches: int = 0
    stats: RunStats = field(default_factory=RunStats)
    findings: int = 0
    recorded: RecordResult = field(default_factory=RecordResult)
    seconds: float = 0.0


def compiled_rules(session: Session, ruleset: str) -> list[CompiledRule]:
    rows = session.scalars(
        select(MonitorRule).where(
            MonitorRule.ruleset == ruleset,
            MonitorRule.enabled.is_(True),
            MonitorRule.sql.is_not(None),
            MonitorRule.kind.in_(("rule", "correlation")),
        )
    )
    return [
        CompiledRule(
            id=r.id,
            kind=r.kind,
            group_key=r.group_key,
            sql=r.sql or "",
            columns=tuple(r.columns),
            prefilter=r.prefilter,
            title=r.title,
            level=r.level,
            tags=tuple(r.tags),
            logsource=tuple(sorted(r.logsource.items())),
            ruleset=r.ruleset,
        )
        for r in rows
    ]


def _load(
    deployment: Deployment, batches: list[str], cache: Mapping[str, pa.Table], text: bool
) -> list[pa.Table]:
    """The batches' tables (kept apart: findings read matched rows from them)."""
    root = deployment.lake.root / DATASET
    tables = [cache[b] if b in cache else pq.read_table(root / f"{b}.parquet") for b in batches]
    return [with_full_text(t) for t in tables] if text else tables


def _history(deployment: Deployment, events: pa.Table, exclude: set[str]) -> list[pa.Table]:
    """Older batches whose time range reaches the new events (parquet statistics, no full read)."""
    if not len(events):
        return []
    start = events.column("ts").combine_chunks().to_pylist()
    low, high = min(start) - MAX_CORRELATION_REACH, max(start) + MAX_CORRELATION_REACH
    out: list[pa.Table] = []
    for path in sorted((deployment.lake.root / DATASET).glob("*.parquet")):
        if path.stem in exclude:
            continue
        meta = pq.ParquetFile(path).metadata
        index = meta.schema.names.index("ts")
        for group in range(meta.num_row_groups):
            stats = meta.row_group(group).column(index).statistics
            if stats is None or not stats.has_min_max or (stats.min <= high and stats.max >= low):
                out.append(pq.read_table(path))
                break
    return out


def _needs_text(rules: Iterable[CompiledRule]) -> bool:
    wanted = {FULL_TEXT_COLUMN, FULL_TEXT_COLUMN + FOLDED_SUFFIX}
    return any(wanted & set(r.columns) for r in rules)


def scan_rule_set(
    deployment: Deployment,
    ruleset: str,
    *,
    tables: Mapping[str, pa.Table] | None = None,
    record: bool = True,
) -> tuple[RuleSetScan, list[Finding]]:
    """Run one rule set over its unscanned batches; record findings and marks unless told not to."""
    started = perf_counter()
    report = RuleSetScan(ruleset)
    lake_batches = deployment.lake.batches(DATASET)
    with deployment.store.reader() as session:
        done = set(session.scalars(select(MonitorScan.batch).where(MonitorScan.ruleset == ruleset)))
        rules = compiled_rules(session, ruleset)
        placed = host_units(session)
    new = [b for b in lake_batches if b not in done]
    report.batches = len(new)
    if not new:
        return report, []
    batches = _load(deployment, new, tables or {}, _needs_text(rules))
    reader = EventRows(batches)
    columns = needed_columns(rules)
    events = combine_batches(batches, columns)
    runner = RuleRunner(deployment.lake.engine)
    hits, report.stats = runner.run(events, rules)
    findings = _findings(reader, hits, rules, placed)
    correlations = [r for r in rules if r.kind == "correlation"]
    if correlations:
        history = _history(deployment, events, set(new))
        if _needs_text(correlations):
            history = [with_full_text(t) for t in history]
        reader = EventRows([*batches, *history])
        combined = combine_batches([*batches, *history], columns)
        corr_hits, corr_stats = runner.run_correlations(combined, correlations)
        report.stats.hits += corr_stats.hits
        report.stats.candidates += corr_stats.candidates
        report.stats.errors.update(corr_stats.errors)
        findings += _findings(reader, corr_hits, rules, placed)
    report.findings = len(findings)
    per_batch = [0] * len(new)
    for hit in hits:
        per_batch[reader.batch_of(hit.row)] += 1
    marks = [
        MonitorScan(ruleset=ruleset, batch=b, matches=n)
        for b, n in zip(new, per_batch, strict=True)
    ]
    with deployment.store.session() as session:
        if record:
            report.recorded = record_findings(session, findings)
        session.add_all(marks)
    report.seconds = perf_counter() - started
    return report, findings


def _findings(
    events: EventRows, hits: list[Hit], rules: list[CompiledRule], placed: Mapping[str, object]
) -> list[Finding]:
    by_id = {r.id: r for r in rules}

    def unit_of(host: str, at_ingest: str) -> str:
        placement = placed.get(host)
        return str(getattr(placement, "unit", "")) or at_ingest

    return findings_from_hits(events, hits, by_id, unit_of)


def scan_all(
    deployment: Deployment,
    actor: Actor,
    *,
    tables: Mapping[str, pa.Table] | None = None,
    record: bool = True,
) -> tuple[list[RuleSetScan], list[Finding]]:
    """Every registered rule set over its new events."""
    actor.require(Permission.ANALYSE)
    with deployment.store.reader() as session:
        names = list(session.scalars(select(MonitorRuleSet.name).order_by(MonitorRuleSet.name)))
    reports: list[RuleSetScan] = []
    findings: list[Finding] = []
    for name in names:
        report, found = scan_rule_set(deployment, name, tables=tables, record=record)
        reports.append(report)
        findings += found
    return reports, findings
