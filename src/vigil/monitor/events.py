"""The monitor_events dataset: a fixed core schema plus one text column per source field.

Sparse fields (every EventData name, every syslog structured-data parameter...) become VARCHAR
columns named as Sigma names them; DuckDB unions the batches by name, so a rule reads
`"CommandLine"` directly, with no map lookup per row. Names are folded case-insensitively
(DuckDB resolves identifiers that way) and a field that would shadow a core column is stored
with the `data_` prefix.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa

from vigil.monitor.sources.base import DATASET, RawRecord

__all__ = ["CORE_COLUMNS", "DATASET", "EventTableBuilder", "event_key"]

CORE_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("ts", pa.timestamp("us")),
        ("host", pa.string()),
        ("unit", pa.string()),
        ("source", pa.string()),
        ("channel", pa.string()),
        ("event_code", pa.int32()),
        # Full text for keyword rules; EVTX leaves it empty and the runner fills it on demand.
        ("message", pa.string()),
    ]
)
CORE_COLUMNS: tuple[str, ...] = tuple(CORE_SCHEMA.names)
RENAMED_PREFIX = "data_"
_CORE_LOWER = frozenset(CORE_COLUMNS)


def event_key(*parts: str) -> str:
    """Stable id of one event from what identifies it in its source."""
    raw = "\x1f".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(raw, digest_size=12).hexdigest()


@dataclass
class HostSeen:
    """What one batch says about one host: how many events, from when to when."""

    events: int = 0
    first: datetime | None = None
    last: datetime | None = None

    def add(self, ts: datetime) -> None:
        self.events += 1
        self.first = ts if self.first is None or ts < self.first else self.first
        self.last = ts if self.last is None or ts > self.last else self.last


@dataclass
class EventTableBuilder:
    """Collects records of one batch and lays them out as an Arrow table."""

    source: str
    unit_of: Callable[[str], str]
    default_host: str = ""
    hosts: dict[str, HostSeen] = field(default_factory=dict)
    _core: dict[str, list[object]] = field(default_factory=lambda: {c: [] for c in CORE_COLUMNS})
    _names: dict[str, str] = field(default_factory=dict)
    _exact: dict[str, str] = field(default_factory=dict)
    _sparse: dict[str, tuple[list[int], list[str | None]]] = field(default_factory=dict)
    _rows: int = 0

    def column_name(self, name: str) -> str:
        exact = self._exact.get(name)
        if exact is not None:
            return exact
        folded = name.lower()
        known = self._names.get(folded)
        if known is None:
            known = RENAMED_PREFIX + name if folded in _CORE_LOWER else name
            self._names[folded] = known
        self._exact[name] = known
        return known

    def add(self, record: RawRecord) -> None:
        host = record.host or self.default_host
        event_id = event_key(self.source, host, record.channel, record.key)
        core = self._core
        core["event_id"].append(event_id)
        core["ts"].append(record.ts)
        core["host"].append(host)
        core["unit"].append(self.unit_of(host))
        core["source"].append(self.source)
        core["channel"].append(record.channel)
        core["event_code"].append(record.event_code)
        core["message"].append(record.message)
        row = self._rows
        sparse = self._sparse
        exact = self._exact
        for name, value in record.fields.items():
            column = exact.get(name) or self.column_name(name)
            slot = sparse.get(column)
            if slot is None:
                slot = sparse[column] = ([], [])
            elif slot[0][-1] == row:
                continue  # same name twice in one record (case-folded): the first one wins
            slot[0].append(row)
            slot[1].append(value)
        self._rows += 1
        self.hosts.setdefault(host, HostSeen()).add(record.ts)

    def __len__(self) -> int:
        return self._rows

    def table(self) -> pa.Table:
        arrays = [pa.array(self._core[c], type=CORE_SCHEMA.field(c).type) for c in CORE_COLUMNS]
        names = list(CORE_COLUMNS)
        for column, (rows, values) in self._sparse.items():
            full: list[str | None] = [None] * self._rows
            for row, value in zip(rows, values, strict=True):
                full[row] = value
            arrays.append(pa.array(full, type=pa.string()))
            names.append(column)
        return pa.Table.from_arrays(arrays, names=names)
