"""Run every registered rule set over the events it has not seen yet, and record what matches.

Each rule set keeps the list of lake batches it has scanned (monitor_scans): new batches are the
lake's batches minus those. Findings and the scanned marks are written in one transaction, so a
crash or a store that refuses them means the batches are scanned again, which changes nothing
(occurrences are event ids). A scan told not to record writes nothing at all: its caller saves
the findings and the marks (`save_marks`) together, as `vigil detect` does.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from time import perf_counter
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Text, func, select, type_coerce
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from vigil.core.access import Actor, Permission
from vigil.core.finding import Finding
from vigil.deployment import Deployment
from vigil.monitor.detect.sigma.backend import FOLDED_SUFFIX, window_seconds
from vigil.monitor.detect.sigma.findings import EventRows, findings_from_hits
from vigil.monitor.detect.sigma.runner import (
    CompiledRule,
    Hit,
    RulePlan,
    RuleRunner,
    RunStats,
    combine_batches,
    with_full_text,
)
from vigil.monitor.ingest.events import DATASET, FULL_TEXT_COLUMN
from vigil.monitor.ingest.hosts import host_units
from vigil.monitor.ingest.pipeline import IngestResult, ingest_files
from vigil.monitor.models import MonitorRule, MonitorRuleSet, MonitorScan
from vigil.store.db import store_error
from vigil.store.findings import RecordResult, record_findings

#: How far around the new events a correlation looks for older ones when its window is not
#: known, and at most (a longer window is cut to this, and said in the scan's errors).
DEFAULT_CORRELATION_REACH = timedelta(days=2)
MAX_CORRELATION_REACH = timedelta(days=31)


@dataclass
class RuleSetScan:
    ruleset: str
    batches: int = 0
    stats: RunStats = field(default_factory=RunStats)
    findings: int = 0
    recorded: RecordResult = field(default_factory=RecordResult)
    seconds: float = 0.0
    #: Seconds per stage: load (rules and events), match, findings (built), record (stored).
    timings: dict[str, float] = field(default_factory=dict)
    #: The batches scanned and the matches in each: the marks to save with the findings.
    marks: dict[str, int] = field(default_factory=dict)

    def lap(self, stage: str, since: float) -> float:
        now = perf_counter()
        self.timings[stage] = self.timings.get(stage, 0.0) + now - since
        return now


def _json(value: Any) -> Any:
    # SQLite hands JSON columns back as text; PostgreSQL's driver has decoded them already.
    return orjson.loads(value) if isinstance(value, str) else value


def compiled_rules(session: Session, ruleset: str) -> list[CompiledRule]:
    """The enabled, converted rules of a rule set.

    A Core query with the JSON columns read as text and decoded here: through ORM objects and
    their JSON type, loading 2,400 rules took 1.6 times as long (measured).
    """
    table = MonitorRule.__table__
    c = table.c
    query = select(
        c.id,
        c.kind,
        c.group_key,
        c.sql,
        type_coerce(c.columns, Text),
        type_coerce(c.prefilter, Text),
        c.title,
        c.level,
        type_coerce(c.tags, Text),
        type_coerce(c.logsource, Text),
        c.ruleset,
    ).where(
        c.ruleset == ruleset,
        c.enabled.is_(True),
        c.sql.is_not(None),
        c.kind.in_(("rule", "correlation")),
    )
    return [
        CompiledRule(
            id=rule_id,
            kind=kind,
            group_key=group_key,
            sql=sql or "",
            columns=tuple(_json(columns)),
            prefilter=_json(prefilter),
            title=title,
            level=level,
            tags=tuple(_json(tags)),
            logsource=tuple(sorted(_json(logsource).items())),
            ruleset=name,
        )
        for (
            rule_id,
            kind,
            group_key,
            sql,
            columns,
            prefilter,
            title,
            level,
            tags,
            logsource,
            name,
        ) in session.connection().execute(query)
    ]


@dataclass(frozen=True)
class _Cached:
    stamp: tuple[Any, ...]
    rules: list[CompiledRule]
    plan: RulePlan


#: Rule sets already loaded and laid out in this process (`vigil monitor ingest --watch`, the
#: web app), by database and name; a stamp read from the store tells when they changed.
_PLANS: dict[tuple[str, str], _Cached] = {}


def rule_plan(
    deployment: Deployment, session: Session, ruleset: str
) -> tuple[list[CompiledRule], RulePlan]:
    """A rule set's rules and runner plan, loaded once per process until the rules change."""
    r = MonitorRule
    stamp = tuple(
        session.execute(
            select(func.count(r.id), func.max(r.updated_at)).where(r.ruleset == ruleset)
        ).one()
    )
    key = (deployment.store.url, ruleset)
    cached = _PLANS.get(key)
    if cached is None or cached.stamp != stamp:
        with _collector_paused():
            rules = compiled_rules(session, ruleset)
            plan = RulePlan(rules)
            plan.prepare()
        cached = _PLANS[key] = _Cached(stamp, rules, plan)
    return cached.rules, cached.plan


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while the rules' literal trees are built.

    They are hundreds of thousands of small lists with no cycles among them; while they are
    built, the collector scans them, and everything else alive, again and again: that was most
    of the time of loading 2,400 rules (0.13 of 0.16 s, measured).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _load(
    deployment: Deployment, batches: list[str], cache: Mapping[str, pa.Table], text: bool
) -> list[pa.Table]:
    """The batches' tables (kept apart: findings read matched rows from them)."""
    root = deployment.lake.root / DATASET
    tables = [cache[b] if b in cache else pq.read_table(root / f"{b}.parquet") for b in batches]
    return [with_full_text(t) for t in tables] if text else tables


def correlation_reach(rules: Iterable[CompiledRule]) -> tuple[timedelta, list[str]]:
    """How far from the new events the correlations' windows reach, and the rules whose window
    is longer than `MAX_CORRELATION_REACH` (they are run with that reach)."""
    spans = {r.id: window_seconds(r.sql) for r in rules}
    reaches = [
        DEFAULT_CORRELATION_REACH if s is None else timedelta(seconds=s) for s in spans.values()
    ]
    reach = max(reaches, default=DEFAULT_CORRELATION_REACH)
    cut = [
        i
        for i, s in spans.items()
        if s is not None and timedelta(seconds=s) > MAX_CORRELATION_REACH
    ]
    return min(reach, MAX_CORRELATION_REACH), cut


def _history(
    deployment: Deployment, events: pa.Table, exclude: set[str], reach: timedelta
) -> list[pa.Table]:
    """Older batches whose time range comes within `reach` of the new events (parquet
    statistics, no full read)."""
    if not len(events):
        return []
    span = pc.min_max(events.column("ts"))
    low, high = span["min"].as_py() - reach, span["max"].as_py() + reach
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
    ready: Callable[[], None] | None = None,
) -> tuple[RuleSetScan, list[Finding]]:
    """Run one rule set over its unscanned batches; record findings and marks unless told not to.

    Recorded, both go in one transaction: if the store refuses, neither is kept (a StoreError
    says so) and the next scan looks at the same batches again. Not recorded, nothing is
    written: the marks are in the scan's `marks`, for `save_marks` with the findings.
    `tables` may hold batches still being written to the lake (`ingest_files(write_behind=
    True)`): they are scanned from memory, and `ready()` is waited for before anything is
    recorded about them.
    """
    started = perf_counter()
    report = RuleSetScan(ruleset)
    lake_batches = deployment.lake.batches(DATASET)
    in_lake = set(lake_batches)
    lake_batches += [b for b in (tables or {}) if b not in in_lake]
    with deployment.store.reader() as session:
        done = set(session.scalars(select(MonitorScan.batch).where(MonitorScan.ruleset == ruleset)))
        rules, plan = rule_plan(deployment, session, ruleset)
        placed = host_units(session)
    new = [b for b in lake_batches if b not in done]
    report.batches = len(new)
    if not new:
        return report, []
    batches = _load(deployment, new, tables or {}, _needs_text(rules))
    reader = EventRows(batches)
    columns = plan.columns
    events = combine_batches(batches, columns)
    runner = RuleRunner(deployment.lake.engine)
    lap = report.lap("load", started)
    hits, report.stats = runner.run(events, plan)
    lap = report.lap("match", lap)
    findings = _findings(reader, hits, rules, placed)
    lap = report.lap("findings", lap)
    correlations = [r for r in rules if r.kind == "correlation"]
    if correlations:
        reach, cut = correlation_reach(correlations)
        for rule_id in cut:
            report.stats.errors[rule_id] = (
                f"window longer than {MAX_CORRELATION_REACH.days} days: older events are "
                f"looked for up to {MAX_CORRELATION_REACH.days} days back only"
            )
        history = _history(deployment, events, set(new), reach)
        if _needs_text(correlations):
            history = [with_full_text(t) for t in history]
        reader = EventRows([*batches, *history])
        combined = combine_batches([*batches, *history], columns)
        corr_hits, corr_stats = runner.run_correlations(combined, correlations)
        report.stats.hits += corr_stats.hits
        report.stats.candidates += corr_stats.candidates
        report.stats.errors.update(corr_stats.errors)
        lap = report.lap("match", lap)
        findings += _findings(reader, corr_hits, rules, placed)
        lap = report.lap("findings", lap)
    report.findings = len(findings)
    per_batch = [0] * len(new)
    for hit in hits:
        per_batch[reader.batch_of(hit.row)] += 1
    report.marks = dict(zip(new, per_batch, strict=True))
    if ready is not None:
        ready()
    if record:
        try:
            with deployment.store.session() as session:
                report.recorded = record_findings(session, findings)
                save_marks(session, [report])
        except SQLAlchemyError as e:
            doing = f"rule set {ruleset}: storing {len(findings)} findings of {len(new)} batches"
            raise store_error(e, doing, "they are scanned again at the next run") from e
    report.lap("record", lap)
    report.seconds = perf_counter() - started
    return report, findings


def save_marks(session: Session, scans: Iterable[RuleSetScan]) -> None:
    """Note the batches the scans went over as scanned, in the caller's transaction.

    Merged, not inserted: a batch another run has just marked is marked once.
    """
    for scan in scans:
        for batch, matches in scan.marks.items():
            session.merge(MonitorScan(ruleset=scan.ruleset, batch=batch, matches=matches))


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
    ready: Callable[[], None] | None = None,
) -> tuple[list[RuleSetScan], list[Finding]]:
    """Every registered rule set over its new events."""
    actor.require(Permission.ANALYSE)
    with deployment.store.reader() as session:
        names = _rule_set_names(session)
    reports: list[RuleSetScan] = []
    findings: list[Finding] = []
    for name in names:
        report, found = scan_rule_set(deployment, name, tables=tables, record=record, ready=ready)
        reports.append(report)
        findings += found
    return reports, findings


def _rule_set_names(session: Session) -> list[str]:
    return list(session.scalars(select(MonitorRuleSet.name).order_by(MonitorRuleSet.name)))


def warm_up(deployment: Deployment) -> None:
    """What a scan does first, done ahead: every rule set's plan loaded, the lake engine up."""
    with deployment.store.reader() as session:
        for name in _rule_set_names(session):
            rule_plan(deployment, session, name)
    deployment.lake.engine.query_rows("SELECT 1")


def merge_scans(scans: Iterable[RuleSetScan]) -> list[RuleSetScan]:
    """Scans of the same rule sets over successive batches, added up per rule set."""
    merged: dict[str, RuleSetScan] = {}
    for scan in scans:
        total = merged.setdefault(scan.ruleset, RuleSetScan(scan.ruleset))
        total.batches += scan.batches
        rules, candidates = total.stats.rules, total.stats.candidates
        total.stats += scan.stats
        # The same rules over each batch: how many there are, and at most how many ran.
        total.stats.rules = max(rules, scan.stats.rules)
        total.stats.candidates = max(candidates, scan.stats.candidates)
        total.findings += scan.findings
        total.recorded += scan.recorded
        total.seconds += scan.seconds
        total.marks.update(scan.marks)
        for stage, seconds in scan.timings.items():
            total.timings[stage] = total.timings.get(stage, 0.0) + seconds
    return list(merged.values())


def ingest_and_scan(
    deployment: Deployment, actor: Actor, paths: Iterable[Path], **options: Any
) -> tuple[IngestResult, list[RuleSetScan]]:
    """Ingest files (`options` as `ingest_files` takes them) and run every rule set over them.

    The rules are loaded while the worker processes parse the first batch; they run over each
    batch in this process while the workers parse the next, and over the last one while it is
    written to the lake: the two cores are kept busy with parsing and matching together instead
    of one after the other.
    """
    scans: list[RuleSetScan] = []
    scanned: set[str] = set()

    def on_batch(batch: str, table: pa.Table) -> None:
        scans.extend(scan_all(deployment, actor, tables={batch: table})[0])
        scanned.add(batch)

    def while_parsing() -> None:
        # A failure here is left to the scan, which loads the same and reports what failed.
        with suppress(Exception):
            warm_up(deployment)

    result = ingest_files(
        deployment,
        actor,
        paths,
        write_behind=True,
        on_batch=on_batch,
        while_parsing=while_parsing,
        **options,
    )
    try:
        rest = {b: t for b, t in result.tables.items() if b not in scanned}
        scans += scan_all(deployment, actor, tables=rest, ready=result.finish)[0]
    finally:
        result.finish()
    return result, merge_scans(scans)
