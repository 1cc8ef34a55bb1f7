"""Runs converted Sigma rules over a table of events, fast enough for thousands of rules.

What keeps it fast, each measured (docs/benchmarks.md):
- rules are grouped by log source, and each group sees only its own events (a Channel/EventID
  mask computed once), in a narrow table of just the columns its rules read;
- each rule's literal prefilter is checked against the distinct values of that table, so a
  rule whose words do not occur is never planned (planning costs about a millisecond a rule);
- case-insensitive matches read folded columns computed once per group, and the rules of a
  group run as one query that scans the group once and lists, per event, the rules it matched;
- a rule runs without the log-source conditions its group already guarantees: on a small batch
  DuckDB spends its time binding SQL, and those conditions were about a sixth of it.
The layout of a rule set (groups, stripped SQL, literal automata) is a `RulePlan`, worked out
once and reused for every batch.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vigil.core.errors import LakeError
from vigil.lake.engine import LakeEngine
from vigil.monitor.detect.sigma.backend import FOLDED_SUFFIX, quote_identifier
from vigil.monitor.detect.sigma.pipeline import MAPPINGS, LogsourceMapping
from vigil.monitor.detect.sigma.prefilter import (
    ColumnValues,
    LiteralFinder,
    Node,
    RowChecker,
    columns_of,
    literals_of,
)
from vigil.monitor.detect.sigma.rules import CORRELATION_GROUP
from vigil.monitor.ingest.events import CORE_COLUMNS, FULL_TEXT_COLUMN, join_by_row

ROW = "__row"
GROUP_VIEW = "vigil_sigma_group_arrow"
GROUP_TABLE = "vigil_sigma_group"
#: One scan of a group: per event, the index of each rule it matched (one row per match).
#: `{matches}` turns an array of one `CASE WHEN (rule) THEN index END` per rule into rows, as the
#: engine's dialect spells it; no lambda, which DuckDB versions spell differently.
MATCH_QUERY = (
    "SELECT row_number, rule_index FROM (SELECT {row} AS row_number, "
    "{matches} AS rule_index FROM {table}) WHERE rule_index IS NOT NULL"
)
EVENTS_VIEW = "monitor_events"
#: Above this much distinct text a column's values are not searched by the prefilter ("maybe").
MAX_INDEXED_TEXT = 4 * 1024 * 1024
#: Rows per chunk below which event tables are made contiguous, and above which a group is
#: handed to DuckDB in chunks of this size, which its threads scan in parallel.
MIN_CHUNK = 8192
#: Group queries run at once (each on its own engine cursor): DuckDB binds a query on one
#: core, so two keep both cores busy on a batch whose time goes to binding many rules' SQL.
QUERY_THREADS = 2
_MAPPINGS = {m.key: m for m in MAPPINGS}
#: A group's hits and the rules that failed in it (by rule id).
_GroupResult: TypeAlias = tuple[list["Hit"], dict[str, str]]


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
    combined = pa.concat_tables(renamed, promote_options="default")
    # take() over hundreds of small chunks is a hundred times slower than over one; over a few
    # dozen large ones it costs less than copying every column into one (measured: joining the
    # 40 chunks of five 40,000-event batches took 0.8 s).
    chunks = combined.column(0).num_chunks if combined.num_columns else 0
    if chunks > max(1, len(combined) // (MIN_CHUNK // 4)):
        combined = combined.combine_chunks()
    return combined


def needed_columns(rules: Iterable[CompiledRule]) -> set[str]:
    """The event fields rules read: their SQL columns (folded ones by their field) and literals."""
    out: set[str] = set()
    for rule in rules:
        out.update(c.removesuffix(FOLDED_SUFFIX) for c in rule.columns)
        out.update(rule.literal_columns)
    return out


def with_full_text(events: pa.Table) -> pa.Table:
    """Fill `message` where a source left it empty (EVTX) with the event's field values.

    The values are joined in column order, skipping empty fields. Fresh batches come from the
    parser with `message` filled already (`EventTableBuilder.full_text`); this serves batches
    read back from the lake.
    """
    if FULL_TEXT_COLUMN not in events.column_names:
        return events
    message = events.column(FULL_TEXT_COLUMN)
    if message.null_count == 0:
        return events
    sparse = [
        n
        for n in events.column_names
        if n not in CORE_COLUMNS and pa.types.is_string(events.schema.field(n).type)
    ]
    row_parts: list[np.ndarray] = []
    value_parts: list[pa.Array] = []
    for name in sparse:
        column = events.column(name)
        if column.null_count == len(column):
            continue
        valid = pc.is_valid(column)
        row_parts.append(pc.indices_nonzero(valid).to_numpy())
        value_parts += pc.filter(column, valid).chunks
    if row_parts:
        rows = np.concatenate(row_parts)
        order = np.argsort(rows, kind="stable")  # by row; within a row, in column order
        values = pa.concat_arrays(value_parts).take(pa.array(order))
        joined = join_by_row(rows[order], values, len(events))
    else:
        joined = pa.array([""] * len(events), pa.string())
    filled = pc.coalesce(message.combine_chunks(), joined)
    index = events.column_names.index(FULL_TEXT_COLUMN)
    return events.set_column(index, FULL_TEXT_COLUMN, filled)


def _lookup(table: pa.Table) -> dict[str, str]:
    return {n.lower(): n for n in table.column_names}


class _Selector:
    """The rows of each log source in one table of events; lower-cases each column once."""

    def __init__(self, events: pa.Table) -> None:
        self.events = events
        self.names = _lookup(events)
        self._lowered: dict[str, pa.ChunkedArray] = {}

    def _lower(self, name: str) -> pa.ChunkedArray:
        found = self._lowered.get(name)
        if found is None:
            found = self._lowered[name] = pc.utf8_lower(self.events.column(name).cast(pa.string()))
        return found

    def rows(self, mapping: LogsourceMapping) -> pa.Array | None:
        """Indices of the source's events; None when every event belongs to it."""
        mask: Any = None
        for column, values in mapping.conditions.items():
            name = self.names.get(column.lower())
            if name is None:
                return pa.array([], pa.uint64())
            if all(isinstance(v, int) for v in values):
                data = self.events.column(name)
                wanted = pa.array(values, type=data.type)
            else:
                data = self._lower(name)
                wanted = pa.array([str(v).lower() for v in values])
            part = pc.fill_null(pc.is_in(data, value_set=wanted), False)
            mask = part if mask is None else pc.and_(mask, part)
        return None if mask is None else pc.indices_nonzero(mask)


class GroupColumns:
    """The columns of one group's events, each taken (and lower-cased) once, when first asked."""

    def __init__(self, events: pa.Table, rows: pa.Array | None) -> None:
        self.events = events
        self.rows = rows
        self.count = len(events) if rows is None else len(rows)
        self._names = _lookup(events)
        self._raw: dict[str, Any] = {}
        self._folded: dict[str, Any] = {}

    def raw(self, column: str) -> Any:
        """The column over the group's rows, None when the events lack it."""
        name = self._names.get(column.lower())
        if name is None:
            return None
        found = self._raw.get(name)
        if found is None:
            data = self.events.column(name)
            found = self._raw[name] = data if self.rows is None else data.take(self.rows)
        return found

    def folded(self, column: str) -> Any:
        """The column lower-cased as text (the backend's `"<field>#lower"`), None if absent."""
        data = self.raw(column)
        if data is None:
            return None
        name = self._names[column.lower()]
        found = self._folded.get(name)
        if found is None:
            found = self._folded[name] = pc.utf8_lower(data.cast(pa.string()))
        return found

    def literal_values(self, columns: Iterable[str]) -> dict[str, ColumnValues]:
        """The columns as the prefilter's row checker reads them, by lower-cased name."""
        out: dict[str, ColumnValues] = {}
        for column in columns:
            data = self.raw(column)
            if data is None or data.null_count == len(data):
                continue
            text = data.cast(pa.string())
            distinct = pc.unique(text).drop_null()
            size = pc.sum(pc.binary_length(distinct)).as_py() or 0
            if size > MAX_INDEXED_TEXT:  # too much to search: any literal may be in any value
                out[column.lower()] = ColumnValues(1, None, partial(_valid_index, text))
                continue
            out[column.lower()] = ColumnValues(
                len(distinct),
                pc.utf8_lower(distinct).to_pylist(),
                partial(_value_index, text, distinct),
            )
        return out

    def table(self, columns: Iterable[str]) -> pa.Table:
        """The group's rows with just these columns (folded ones computed) and their row numbers.

        A large group comes in chunks, which DuckDB scans on all its threads.
        """
        arrays: dict[str, Any] = {
            ROW: pa.array(range(self.count), pa.int64())
            if self.rows is None
            else self.rows.cast(pa.int64())
        }
        seen = {ROW.lower()}
        for column in sorted(columns):
            if column.lower() in seen:
                continue  # DuckDB folds case: one column serves every spelling
            seen.add(column.lower())
            if column.endswith(FOLDED_SUFFIX):
                data = self.folded(column[: -len(FOLDED_SUFFIX)])
            else:
                data = self.raw(column)
            arrays[column] = pa.nulls(self.count, pa.string()) if data is None else data
        table = pa.table(arrays).combine_chunks()
        if len(table) < 2 * MIN_CHUNK:
            return table
        return pa.Table.from_batches(table.to_batches(max_chunksize=MIN_CHUNK))


def _value_index(text: Any, distinct: pa.Array) -> np.ndarray:
    """Per row, the position of its value in `distinct`; `len(distinct)` for no value."""
    index = pc.fill_null(pc.index_in(text, value_set=distinct), len(distinct))
    return np.asarray(index.to_numpy(zero_copy_only=False), dtype=np.int64)


def _valid_index(text: Any) -> np.ndarray:
    """Per row, 0 if it has a value, 1 if not (one stand-in for every value)."""
    valid = pc.is_valid(text).to_numpy(zero_copy_only=False)
    return np.where(valid, 0, 1)


def narrow_table(events: pa.Table, rows: pa.Array | None, columns: Iterable[str]) -> pa.Table:
    """The rows of a group with just the columns its SQL reads, folded columns computed."""
    return GroupColumns(events, rows).table(columns)


def strip_prefix(sql: str, prefix: str) -> str:
    """A rule's SQL without its group's leading conditions, true of every event of the group.

    The conditions are the leftmost operands of an AND, so over those events `P AND x` is `x`
    whatever `x` is (TRUE AND NULL is NULL); SQL that does not start with them is kept whole.
    """
    lead = prefix + " AND "
    return sql[len(lead) :] if prefix and sql.startswith(lead) else sql


class RuleGroup:
    """The rules of one log source; what the runner needs of them is worked out on first use
    (a rule set has sixty groups, a batch usually reaches a few)."""

    def __init__(self, mapping: LogsourceMapping, rules: list[CompiledRule]) -> None:
        self.mapping = mapping
        self.rules = rules

    @cached_property
    def bodies(self) -> list[str]:
        """Each rule's SQL without the conditions that select the group's events."""
        prefix = self.mapping.rule_prefix()
        return [strip_prefix(r.sql, prefix) for r in self.rules]

    @cached_property
    def literal_columns(self) -> set[str]:
        return set().union(*(r.literal_columns for r in self.rules))

    @cached_property
    def finders(self) -> dict[str, LiteralFinder]:
        wanted: dict[str, set[str]] = {}
        for rule in self.rules:
            for column, found in rule.literals.items():
                wanted.setdefault(column, set()).update(found)
        return {c: LiteralFinder(found) for c, found in wanted.items()}


class RulePlan:
    """A rule set laid out for the runner: rules by log source, unknown sources as errors."""

    def __init__(self, rules: Sequence[CompiledRule]) -> None:
        self.rules = list(rules)
        self.groups: list[RuleGroup] = []
        self.errors: dict[str, str] = {}
        by_group: dict[str, list[CompiledRule]] = defaultdict(list)
        for rule in self.rules:
            if rule.kind == "rule":
                by_group[rule.group_key].append(rule)
        for key, group in sorted(by_group.items()):
            mapping = _MAPPINGS.get(key)
            if mapping is None:
                for rule in group:
                    self.errors[rule.id] = f"unknown log-source group {key!r}"
                continue
            self.groups.append(RuleGroup(mapping, group))

    @cached_property
    def columns(self) -> set[str]:
        """The event fields the rules read (see `needed_columns`)."""
        return needed_columns(self.rules)

    def prepare(self) -> None:
        """Work out now what does not depend on the events (the rules' literals and columns)."""
        for rule in self.rules:
            rule.literals  # noqa: B018 (a cached property)
        self.columns  # noqa: B018


class RuleRunner:
    """Evaluates rules over event tables with one lake engine connection."""

    def __init__(self, engine: LakeEngine) -> None:
        self.engine = engine
        # An engine that copies the group into its own storage first reads the copy.
        self._source = GROUP_TABLE if engine.dialect.materialize else GROUP_VIEW

    def run(
        self, events: pa.Table, rules: Sequence[CompiledRule] | RulePlan
    ) -> tuple[list[Hit], RunStats]:
        """Every group's candidate rules over its events.

        Each group is laid out here (prefilter, narrow table: Python, one at a time) and, on an
        engine with concurrent cursors, its query is handed at once to a worker thread with its
        own cursor: DuckDB binds and runs one group's SQL while the next is laid out.
        """
        plan = rules if isinstance(rules, RulePlan) else RulePlan(rules)
        stats = RunStats(events=len(events), rules=len(plan.rules))
        stats.errors.update(plan.errors)
        if not len(events):
            return [], stats
        selector = _Selector(events)
        local = threading.local()

        def run_one(group: RuleGroup, chosen: list[int], table: pa.Table) -> _GroupResult:
            if not self.engine.concurrent:
                return self._run_group(self.engine, group, chosen, table)
            cursor = getattr(local, "cursor", None)
            if cursor is None:
                cursor = local.cursor = self.engine.cursor()
            return self._run_group(cursor, group, chosen, table)

        threads = QUERY_THREADS if self.engine.concurrent else 1
        with ThreadPoolExecutor(threads) as pool:
            pending: list[Future[_GroupResult]] = []
            for group in plan.groups:
                rows = selector.rows(group.mapping)
                if rows is not None and len(rows) == 0:
                    continue
                laid_out = self._lay_out(GroupColumns(events, rows), group, stats)
                if laid_out is not None:
                    pending.append(pool.submit(run_one, group, *laid_out))
            results = [future.result() for future in pending]
        hits: list[Hit] = []
        for found, errors in results:
            hits += found
            stats.errors.update(errors)
        stats.hits = len(hits)
        return hits, stats

    def _lay_out(
        self, columns: GroupColumns, group: RuleGroup, stats: RunStats
    ) -> tuple[list[int], pa.Table] | None:
        """The group's rules that pass the prefilter, and the table they read; None if none."""
        check = RowChecker(
            columns.literal_values(group.literal_columns), group.finders, columns.count
        )
        chosen = [i for i, r in enumerate(group.rules) if check(r.prefilter)]
        stats.candidates += len(chosen)
        if not chosen:
            return None
        # The table holds the columns of the rules that run, not of all the group's rules.
        return chosen, columns.table(set().union(*(group.rules[i].columns for i in chosen)))

    def _run_group(
        self, engine: LakeEngine, group: RuleGroup, chosen: list[int], table: pa.Table
    ) -> _GroupResult:
        engine.register_arrow(GROUP_VIEW, table)
        for statement in engine.dialect.materialize_as(GROUP_TABLE, GROUP_VIEW):
            engine.query(statement)
        errors: dict[str, str] = {}
        try:
            return self._query(engine, group, chosen), errors
        except LakeError:
            # One bad rule must not hide the others: run them one by one to find it.
            hits: list[Hit] = []
            for index in chosen:
                try:
                    hits += self._query(engine, group, [index])
                except LakeError as e:
                    errors[group.rules[index].id] = str(e)
            return hits, errors

    def _query(self, engine: LakeEngine, group: RuleGroup, chosen: Sequence[int]) -> list[Hit]:
        dialect = engine.dialect
        cases = [f"CASE WHEN ({group.bodies[i]}) THEN {n} END" for n, i in enumerate(chosen)]
        sql = MATCH_QUERY.format(
            row=dialect.quote(ROW),
            matches=dialect.rows_of(dialect.array_of(cases)),
            table=self._source,
        )
        # Rule by rule, events in lake order, whatever order a parallel scan returned them in.
        pairs = sorted((n, r) for r, n in engine.query_rows(sql))
        rules = group.rules
        return [Hit(rules[chosen[n]].id, r) for n, r in pairs]

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
