"""Sigma matches as Findings: one per rule, host and day; matching events are occurrences."""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa

from vigil.core.clock import to_local
from vigil.core.finding import Finding
from vigil.core.i18n import _
from vigil.core.severity import Severity
from vigil.monitor.events import CORE_COLUMNS
from vigil.monitor.sigma.runner import ROW, CompiledRule, Hit

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


def scope_of(ts: datetime) -> str:
    """The window one finding covers: the day, as the province counts days."""
    return "day:" + to_local(ts).date().isoformat()


def event_evidence(row: Mapping[str, Any]) -> dict[str, Any]:
    """An event trimmed for evidence: core fields, then the key ones, then the rest, cut short."""
    out: dict[str, Any] = {}
    for name in ("event_id", "ts", "host", "channel", "event_code"):
        value = row.get(name)
        out[name] = value.isoformat() if isinstance(value, datetime) else value
    ordered = [k for k in KEY_FIELDS if k in row] + sorted(
        k
        for k in row
        if k not in KEY_FIELDS and k not in CORE_COLUMNS and k != ROW and not k.endswith("#lower")
    )
    for name in ordered:
        value = row.get(name)
        if value is None or len(out) >= MAX_FIELDS:
            continue
        text = str(value)
        out[name] = text if len(text) <= MAX_VALUE else text[:MAX_VALUE] + "…"
    return out


def _rows(table: pa.Table, numbers: Sequence[int]) -> list[dict[str, Any]]:
    """The given rows as dicts with only their non-null fields (one take for all of them)."""
    subset = table.take(pa.array(numbers, pa.int64()))
    names = [n for n in subset.column_names if subset.column(n).null_count < len(subset)]
    columns = {n: subset.column(n).to_pylist() for n in names}
    return [
        {n: values[i] for n, values in columns.items() if values[i] is not None}
        for i in range(len(numbers))
    ]


class EventRows:
    """Reads matched rows, by row number over batches laid end to end, from the batches."""

    def __init__(self, tables: Sequence[pa.Table]) -> None:
        self.tables = tables
        self.starts = [0]
        for table in tables:
            self.starts.append(self.starts[-1] + len(table))

    def batch_of(self, row: int) -> int:
        return bisect_right(self.starts, row) - 1

    def read(self, numbers: Iterable[int]) -> dict[int, dict[str, Any]]:
        by_batch: dict[int, list[int]] = defaultdict(list)
        for row in sorted(set(numbers)):
            by_batch[self.batch_of(row)].append(row)
        out: dict[int, dict[str, Any]] = {}
        for index, rows in by_batch.items():
            start = self.starts[index]
            local = _rows(self.tables[index], [r - start for r in rows])
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


def findings_from_hits(
    events: pa.Table | EventRows,
    hits: Iterable[Hit],
    rules: Mapping[str, CompiledRule],
    unit_of: Callable[[str, str], str],
) -> list[Finding]:
    """One Finding per (rule, host, day) and matching event; the store folds them into one row.

    `unit_of(host, unit_at_ingest)` gives the host's unit now. Each event is its own Finding with
    its own time, so first_seen/last_seen are the events' times; a correlation's occurrences are
    the events of its windows.
    """
    hits = list(hits)
    by_rule: dict[str, list[Hit]] = defaultdict(list)
    for hit in hits:
        by_rule[hit.rule_id].append(hit)
    reader = events if isinstance(events, EventRows) else EventRows([events])
    rows = reader.read(h.row for h in hits)
    findings: list[Finding] = []
    for rule_id, rule_hits in by_rule.items():
        rule = rules[rule_id]
        buckets: dict[tuple[str, str], list[Hit]] = defaultdict(list)
        for hit in rule_hits:
            row = rows[hit.row]
            buckets[(str(row.get("host", "")), scope_of(row["ts"]))].append(hit)
        for (host, scope), bucket in sorted(buckets.items()):
            first = rows[bucket[0].row]
            evidence = {
                "level": rule.level,
                "ruleset": rule.ruleset,
                "kind": rule.kind,
                "attack": attack_summary(rule.tags),
                "tags": list(rule.tags),
                "logsource": dict(rule.logsource),
                "events": [event_evidence(rows[h.row]) for h in bucket[:MAX_EVENTS]],
                "matched": len(bucket),
            }
            unit = unit_of(host or "-", str(first.get("unit", "")))
            for hit in bucket:
                row = rows[hit.row]
                keys = hit.window or (str(row["event_id"]),)
                findings.append(
                    Finding(
                        capability=CAPABILITY,
                        rule=rule.id,
                        severity=Severity.parse(rule.level),
                        unit=unit,
                        subject=host or "-",
                        title=rule.title or rule.id,
                        title_vi=_(TITLE, "vi").format(title=rule.title or rule.id),
                        evidence=evidence,
                        observed_at=row["ts"],
                        occurrences=tuple(keys),
                        scope=scope,
                    )
                )
    return findings
