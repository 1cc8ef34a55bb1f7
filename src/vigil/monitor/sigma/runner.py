"""Runs converted Sigma rules over a table of events, fast enough for thousands of rules.

Three things keep it fast, each measured (docs/benchmarks.md):
- rules are grouped by log source, and each group sees only its own events (a Channel/EventID
  mask computed once), in a narrow table of just the columns its rules read;
- each rule's literal prefilter is checked against the distinct values of that table, so a
  rule whose words do not occur is never planned (planning costs about a millisecond a rule);
- case-insensitive matches read folded columns computed once per group, and the rules of a
  group run as one UNION ALL query.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from vigil.core.errors import LakeError
from vigil.lake.engine import LakeEngine
from vigil.monitor.events import CORE_COLUMNS
from vigil.monitor.sigma.backend import FOLDED_SUFFIX, FULL_TEXT_COLUMN, quote_identifier
from vigil.monitor.sigma.pipeline import MAPPINGS, LogsourceMapping
from vigil.monitor.sigma.prefilter import LiteralChecker, Node, columns_of, literals_of
from vigil.monitor.sigma.rules import CORRELATION_GROUP

ROW = "__row"
GROUP_VIEW = "vigil_sigma_group_arrow"
GROUP_TABLE = "vigil_sigma_group"
#: How each engine copies the group into its own storage before the rules read it: scanning
#: the Arrow table from every branch of a 1,000-rule query is four times slower (measured).
MATERIALIZE = {
    "duckdb": "CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM {view}",
    "spark": "CACHE TABLE {table} AS SELECT * FROM {view}",
}
EVENTS_VIEW = "monitor_events"
#: Above this much distinct text a column is not indexed for the prefilter (it says "maybe").
MAX_INDEXED_TEXT = 4 * 1024 * 1024
_MAPPINGS = {m.key: m for m in MAPPINGS}


@dataclass(frozen=True)
class CompiledRule:
    """What the runner needs of a stored rule."""

    id: str
    kind: str
    group_key: str
    sql: str
    columns: tuple[str, ...]
    prefilter: Node
    title: str = ""
    level: str = "medium"
    tags: tuple[str, ...] = ()
    logsource: tuple[tuple[str, str], ...] = ()
    ruleset: str = ""

    # Worked out once per rule, not once per rule and batch.
    @cached_property
    def literal_columns(self) -> frozenset[str]:
        return frozenset(columns_of(self.prefilter))

    @cached_property
    def literals(self) -> dict[str, set[str]]:
        return literals_of(self.prefilter)


@dataclass(frozen=True)
class Hit:
    """A rule matched the event in row `row`; a correlation also names its window's events."""

    rule_id: str
    row: int
    window: tuple[str, ...] = ()


@dataclass
class RunStats:
    events: int = 0
    rules: int = 0
    candidates: int = 0
    hits: int = 0
    errors: dict[str, str] = field(default_factory=dict)

    def __iadd__(self, other: RunStats) -> RunStats:
        self.events += other.events
        self.rules += other.rules
        self.candidates += other.candidates
        self.hits += other.hits
        self.errors.update(other.errors)
        return self


def combine_batches(tables: Sequence[pa.Table], columns: Iterable[str] | None = None) -> pa.Table:
    """One table from batches whose sparse columns differ; names folded as DuckDB folds them.

    `columns` keeps only those (and the core ones): the rules read a few hundred of the
    thousand columns a lake may hold, and each kept column costs a copy.
    """
    if not tables:
        return pa.table({c: pa.array([], pa.string()) for c in CORE_COLUMNS})
    keep = None if columns is None else {c.lower() for c in columns} | set(CORE_COLUMNS)
    canonical: dict[str, str] = {}
    renamed: list[pa.Table] = []
    for table in tables:
        if keep is not None:
            table = table.select([n for n in table.column_names if n.lower() in keep])
        names = [canonical.setdefault(n.lower(), n) for n in table.column_names]
        if len(set(names)) != len(names):  # two spellings inside one batch: keep the first
            first = [i for i, n in enumerate(names) if names.index(n) == i]
            table = table.select(first)
            names = [names[i] for i in first]
        renamed.append(table.rename_columns(names))
    # Contiguous columns: take() over hundreds of small chunks is a hundred times slower.
    return pa.concat_tables(renamed, promote_options="default").combine_chunks()


def needed_columns(rules: Iterable[CompiledRule]) -> set[str]:
    """The event fields rules read: their SQL columns (folded ones by their field) and literals."""
    out: set[str] = set()
    for rule in rules:
        out.update(c.removesuffix(FOLDED_SUFFIX) for c in rule.columns)
        out.update(rule.literal_columns)
    return out


def with_full_text(events: pa.Table) -> pa.Table:
    """Fill `message` where a source left it empty (EVTX) with the event's field values."""
    if FULL_TEXT_COLUMN not in events.column_names:
        return events
    sparse = [
        events.column(n)
        for n in events.column_names
        if n not in CORE_COLUMNS and pa.types.is_string(events.schema.field(n).type)
    ]
    if not sparse or events.column(FULL_TEXT_COLUMN).null_count == 0:
        return events
    joined = pc.binary_join_element_wise(*sparse, "\n", null_handling="skip")
    filled = pc.coalesce(events.column(FULL_TEXT_COLUMN), joined)
    index = events.column_names.index(FULL_TEXT_COLUMN)
    return events.set_column(index, FULL_TEXT_COLUMN, filled)


def _lookup(table: pa.Table) -> dict[str, str]:
    return {n.lower(): n for n in table.column_names}


def _mask(events: pa.Table, mapping: LogsourceMapping) -> pa.ChunkedArray | None:
    names = _lookup(events)
    mask: Any = None
    for column, values in mapping.conditions.items():
        name = names.get(column.lower())
        if name is None:
            return pa.chunked_array([pa.array([False] * len(events))])
        data = events.column(name)
        if all(isinstance(v, int) for v in values):
            wanted = pa.array(values, type=data.type)
        else:
            data = pc.utf8_lower(data.cast(pa.string()))
            wanted = pa.array([str(v).lower() for v in values])
        part = pc.fill_null(pc.is_in(data, value_set=wanted), False)
        mask = part if mask is None else pc.and_(mask, part)
    return mask


def literal_index(table: pa.Table, columns: Iterable[str]) -> dict[str, str | None]:
    """Distinct lower-cased values per column, for `could_match` (folded columns are reused)."""
    names = _lookup(table)
    out: dict[str, str | None] = {}
    for column in columns:
        folded = names.get((column + FOLDED_SUFFIX).lower())
        name = folded or names.get(column.lower())
        if name is None:
            continue
        data = table.column(name)
        if data.null_count == len(data):
            continue
        distinct = pc.unique(data.cast(pa.string())).drop_null()
        if folded is None:
            distinct = pc.utf8_lower(distinct)
        size = pc.sum(pc.binary_length(distinct)).as_py() or 0
        out[column.lower()] = None if size > MAX_INDEXED_TEXT else "\x00".join(distinct.to_pylist())
    return out


def narrow_table(events: pa.Table, rows: pa.Array | None, columns: Iterable[str]) -> pa.Table:
    """The rows of a group with just the columns its SQL reads, folded columns computed."""
    names = _lookup(events)
    count = len(events) if rows is None else len(rows)
    arrays: dict[str, pa.Array | pa.ChunkedArray] = {
        ROW: pa.array(range(len(events)), pa.int64()) if rows is None else rows.cast(pa.int64())
    }
    seen = {ROW.lower()}
    for column in sorted(columns):
        if column.lower() in seen:
            continue  # DuckDB folds case: one column serves every spelling
        seen.add(column.lower())
        folded = column.endswith(FOLDED_SUFFIX)
        base = column[: -len(FOLDED_SUFFIX)] if folded else column
        name = names.get(base.lower())
        if name is None:
            arrays[column] = pa.nulls(count, pa.string())
            continue
        data = events.column(name) if rows is None else events.column(name).take(rows)
        arrays[column] = pc.utf8_lower(data.cast(pa.string())) if folded else data
    return pa.table(arrays)


class RuleRunner:
    """Evaluates rules over event tables with one lake engine connection."""

    def __init__(self, engine: LakeEngine) -> None:
        self.engine = engine
        self._source = GROUP_TABLE if engine.name in MATERIALIZE else GROUP_VIEW

    def run(self, events: pa.Table, rules: Sequence[CompiledRule]) -> tuple[list[Hit], RunStats]:
        stats = RunStats(events=len(events), rules=len(rules))
        hits: list[Hit] = []
        by_group: dict[str, list[CompiledRule]] = defaultdict(list)
        for rule in rules:
            if rule.kind == "rule":
                by_group[rule.group_key].append(rule)
        if not len(events):
            return hits, stats
        for key, group in sorted(by_group.items()):
            mapping = _MAPPINGS.get(key)
            if mapping is None:
                for rule in group:
                    stats.errors[rule.id] = f"unknown log-source group {key!r}"
                continue
            mask = _mask(events, mapping)
            rows = None if mask is None else pc.indices_nonzero(mask)
            if rows is not None and len(rows) == 0:
                continue
            hits += self._run_group(events, rows, group, stats)
        stats.hits = len(hits)
        return hits, stats

    def _run_group(
        self, events: pa.Table, rows: pa.Array | None, group: list[CompiledRule], stats: RunStats
    ) -> list[Hit]:
        prefilter_columns = set().union(*(r.literal_columns for r in group))
        sql_columns = set().union(*(r.columns for r in group))
        table = narrow_table(events, rows, sql_columns | prefilter_columns)
        wanted: dict[str, set[str]] = {}
        for rule in group:
            for column, found in rule.literals.items():
                wanted.setdefault(column, set()).update(found)
        check = LiteralChecker(literal_index(table, prefilter_columns), wanted)
        candidates = [r for r in group if check(r.prefilter)]
        stats.candidates += len(candidates)
        if not candidates:
            return []
        self.engine.register_arrow(GROUP_VIEW, table)
        copy = MATERIALIZE.get(self.engine.name)
        if copy:
            self.engine.query(copy.format(table=GROUP_TABLE, view=GROUP_VIEW))
        try:
            return self._query(candidates)
        except LakeError:
            # One bad rule must not hide the others: run them one by one to find it.
            hits: list[Hit] = []
            for rule in candidates:
                try:
                    hits += self._query([rule])
                except LakeError as e:
                    stats.errors[rule.id] = str(e)
            return hits

    def _query(self, rules: Sequence[CompiledRule]) -> list[Hit]:
        sql = "\nUNION ALL\n".join(
            f"SELECT {i} AS rule_index, {quote_identifier(ROW)} AS row_number "
            f"FROM {self._source} WHERE ({rule.sql})"
            for i, rule in enumerate(rules)
        )
        result = self.engine.query(sql)
        indexes = result.column("rule_index").to_pylist()
        numbers = result.column("row_number").to_pylist()
        return [Hit(rules[i].id, n) for i, n in zip(indexes, numbers, strict=True)]

    def run_correlations(
        self, events: pa.Table, rules: Sequence[CompiledRule]
    ) -> tuple[list[Hit], RunStats]:
        """Correlation rules over `events` (new events and the history their windows reach)."""
        chosen = [r for r in rules if r.kind == "correlation" and r.group_key == CORRELATION_GROUP]
        stats = RunStats(events=len(events), rules=len(chosen), candidates=len(chosen))
        hits: list[Hit] = []
        if not chosen or not len(events):
            return hits, stats
        for rule in chosen:
            table = narrow_table(events, None, set(rule.columns) | set(CORE_COLUMNS))
            self.engine.register_arrow(EVENTS_VIEW, table)
            try:
                result = self.engine.query(
                    f"SELECT {quote_identifier(ROW)} AS row_number, window_events FROM ({rule.sql})"
                )
            except LakeError as e:
                stats.errors[rule.id] = str(e)
                continue
            for row, window in zip(
                result.column("row_number").to_pylist(),
                result.column("window_events").to_pylist(),
                strict=True,
            ):
                hits.append(Hit(rule.id, row, tuple(window or ())))
        stats.hits = len(hits)
        return hits, stats
