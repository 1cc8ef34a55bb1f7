"""Sigma matches as Findings: one per rule, host and day; matching events are occurrences."""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa

from vigil.core.clock import PROVINCE_TZ, to_local
from vigil.core.finding import Finding
from vigil.core.i18n import _
from vigil.core.severity import Severity
from vigil.monitor.detect.sigma.runner import ROW, CompiledRule, Hit
from vigil.monitor.ingest.events import CORE_COLUMNS

CAPABILITY = "monitor"
TITLE = "Sigma detection: {title}"
#: Evidence keeps at most this many events, each with at most this many fields of this length.
MAX_EVENTS = 20
MAX_FIELDS = 40
MAX_VALUE = 300
#: Fields a person reads first in an event.
KEY_FIELDS = (
    "Image",
    "CommandLine",
    "ParentImage",
    "User",
    "TargetObject",
    "TargetFilename",
    "ScriptBlockText",
    "ServiceName",
    "TargetUserName",
    "IpAddress",
)


#: The province's fixed offset from UTC (no daylight saving time).
_PROVINCE_OFFSET = PROVINCE_TZ.utcoffset(None)


def scope_of(ts: datetime) -> str:
    """The window one finding covers: the day, as the province counts days."""
    if ts.tzinfo is None and _PROVINCE_OFFSET is not None:
        # Naive UTC (the lake's times): the province's day without a time zone conversion.
        return "day:" + (ts + _PROVINCE_OFFSET).date().isoformat()
    return "day:" + to_local(ts).date().isoformat()


def event_evidence(row: Mapping[str, Any]) -> dict[str, Any]:
    """An event trimmed for evidence: core fields, then the key ones, then the rest, cut short."""
    out: dict[str, Any] = {}
    for name in ("event_id", "ts", "host", "channel", "event_code"):
        value = row.get(name)
        out[name] = value.isoformat() if isinstance(value, datetime) else value
    rest = sorted(k for k in row.keys() - _NOT_REST if not k.endswith("#lower"))
    for name in [k for k in KEY_FIELDS if k in row] + rest:
        if len(out) >= MAX_FIELDS:
            break
        value = row[name]
        if value is None:
            continue
        text = value if type(value) is str else str(value)
        out[name] = text if len(text) <= MAX_VALUE else text[:MAX_VALUE] + "…"
    return out


_NOT_REST = frozenset(KEY_FIELDS) | frozenset(CORE_COLUMNS) | {ROW}

#: What a finding needs of every matched event; evidence reads whole events, a few per finding.
HIT_COLUMNS = ("event_id", "ts", "host", "unit")


def _rows(
    batch: pa.RecordBatch, numbers: Sequence[int], columns: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """The given rows as dicts with only their non-null fields (one take for all of them)."""
    if columns is not None:
        batch = batch.select([c for c in columns if c in batch.schema.names])
    subset = batch.take(pa.array(numbers, pa.int64()))
    names = [n for n in subset.schema.names if subset.column(n).null_count < len(subset)]
    columns = [subset.column(n).to_pylist() for n in names]
    return [
        {n: v for n, v in zip(names, values, strict=True) if v is not None}
        for values in zip(*columns, strict=True)
    ] or [{} for _ in numbers]


class EventRows:
    """Reads matched rows, by row number over batches laid end to end, from the batches.

    Rows are taken from the record batches the tables are made of: a take over a table's
    chunked columns first joins each column's chunks, which cost more than the rest of the
    findings together on 200,000 events (measured).
    """

    def __init__(self, tables: Sequence[pa.Table]) -> None:
        self.tables = tables
        self.starts = [0]
        self._pieces: list[pa.RecordBatch] = []
        self._piece_starts = [0]
        for table in tables:
            self.starts.append(self.starts[-1] + len(table))
            pieces = table.to_batches()
            if len(pieces) > max(1, len(table) // 1024):  # columns chunked apart: many slivers
                pieces = table.combine_chunks().to_batches()
            for piece in pieces:
                if len(piece):
                    self._pieces.append(piece)
                    self._piece_starts.append(self._piece_starts[-1] + len(piece))

    def batch_of(self, row: int) -> int:
        """Which of the tables holds the row."""
        return bisect_right(self.starts, row) - 1

    def read_columns(self, numbers: Sequence[int], columns: Sequence[str]) -> dict[str, list[Any]]:
        """The named columns' values at rows `numbers` (ascending), one list per column."""
        out: dict[str, list[Any]] = {c: [] for c in columns}
        by_piece: dict[int, list[int]] = defaultdict(list)
        for row in numbers:
            by_piece[bisect_right(self._piece_starts, row) - 1].append(row)
        for index, rows in by_piece.items():
            start = self._piece_starts[index]
            piece = self._pieces[index]
            piece = piece.select([c for c in columns if c in piece.schema.names])
            subset = piece.take(pa.array([r - start for r in rows], pa.int64()))
            for column in columns:
                if column in subset.schema.names:
                    out[column] += subset.column(column).to_pylist()
                else:
                    out[column] += [None] * len(rows)
        return out

    def read(
        self, numbers: Iterable[int], columns: Sequence[str] | None = None
    ) -> dict[int, dict[str, Any]]:
        """Rows by number, with every column or the ones named."""
        by_piece: dict[int, list[int]] = defaultdict(list)
        for row in sorted(set(numbers)):
            by_piece[bisect_right(self._piece_starts, row) - 1].append(row)
        out: dict[int, dict[str, Any]] = {}
        for index, rows in by_piece.items():
            start = self._piece_starts[index]
            local = _rows(self._pieces[index], [r - start for r in rows], columns)
            out.update(zip(rows, local, strict=True))
        return out


def attack_summary(tags: Iterable[str]) -> dict[str, list[str]]:
    tactics, techniques = [], []
    for tag in tags:
        if not tag.startswith("attack."):
            continue
        name = tag.removeprefix("attack.")
        if name[:1] in "tgs" and name[1:5].isdigit():
            if name[0] == "t":
                techniques.append(name.upper())
        else:
            tactics.append(name)
    return {"tactics": tactics, "techniques": techniques}


def _evidence(
    cache: dict[int, dict[str, Any]], rows: Mapping[int, Mapping[str, Any]], row: int
) -> dict[str, Any]:
    found = cache.get(row)
    if found is None:
        found = cache[row] = event_evidence(rows[row])
    return found


def findings_from_hits(
    events: pa.Table | EventRows,
    hits: Iterable[Hit],
    rules: Mapping[str, CompiledRule],
    unit_of: Callable[[str, str], str],
) -> list[Finding]:
    """One Finding per (rule, host, day), its matching events as occurrences with their times.

    `unit_of(host, unit_at_ingest)` gives the host's unit now. Each event is an occurrence with
    its own time, so first_seen/last_seen are the events' times; a correlation's occurrences are
    the events of its windows.
    """
    hits = list(hits)
    by_rule: dict[str, list[Hit]] = defaultdict(list)
    for hit in hits:
        by_rule[hit.rule_id].append(hit)
    reader = events if isinstance(events, EventRows) else EventRows([events])
    # Column by column: tens of thousands of matches, four values each.
    numbers = sorted({h.row for h in hits})
    at = {row: i for i, row in enumerate(numbers)}
    hit_columns = reader.read_columns(numbers, HIT_COLUMNS)
    hosts = [str(h or "") for h in hit_columns["host"]]
    times_of, ids, units = hit_columns["ts"], hit_columns["event_id"], hit_columns["unit"]
    scopes = [scope_of(t) for t in times_of]
    buckets_of: dict[str, dict[tuple[str, str], list[Hit]]] = {}
    for rule_id, rule_hits in by_rule.items():
        buckets: dict[tuple[str, str], list[Hit]] = defaultdict(list)
        for hit in rule_hits:
            i = at[hit.row]
            buckets[(hosts[i], scopes[i])].append(hit)
        buckets_of[rule_id] = buckets
    shown = reader.read(
        h.row for b in buckets_of.values() for bucket in b.values() for h in bucket[:MAX_EVENTS]
    )
    evidence_of: dict[int, dict[str, Any]] = {}  # an event matched by several rules
    findings: list[Finding] = []
    for rule_id, buckets in buckets_of.items():
        rule = rules[rule_id]
        title = rule.title or rule.id
        title_vi = _(TITLE, "vi").format(title=title)
        severity = Severity.parse(rule.level)
        for (host, scope), bucket in sorted(buckets.items()):
            evidence = {
                "level": rule.level,
                "ruleset": rule.ruleset,
                "kind": rule.kind,
                "attack": attack_summary(rule.tags),
                "tags": list(rule.tags),
                "logsource": dict(rule.logsource),
                "events": [_evidence(evidence_of, shown, h.row) for h in bucket[:MAX_EVENTS]],
                "matched": len(bucket),
            }
            unit = unit_of(host or "-", str(units[at[bucket[0].row]] or ""))
            keys: list[str] = []
            times: list[datetime] = []
            for hit in bucket:
                i = at[hit.row]
                window = hit.window or (str(ids[i]),)
                keys += window
                times += [times_of[i]] * len(window)
            findings.append(
                Finding(
                    capability=CAPABILITY,
                    rule=rule.id,
                    severity=severity,
                    unit=unit,
                    subject=host or "-",
                    title=title,
                    title_vi=title_vi,
                    evidence=evidence,
                    observed_at=max(times),
                    occurrences=tuple(keys),
                    scope=scope,
                    occurred_at=tuple(times),
                )
            )
    return findings
