"""The monitor_events dataset: a fixed core schema plus one text column per source field.

Sparse fields (every EventData name, every syslog structured-data parameter...) become VARCHAR
columns named as Sigma names them; DuckDB unions the batches by name, so a rule reads
`"CommandLine"` directly, with no map lookup per row. Names are folded case-insensitively
(DuckDB resolves identifiers that way) and a field that would shadow a core column is stored
with the `data_` prefix.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import repeat

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vigil.monitor.ingest.sources.base import DATASET, RawRecord

__all__ = ["CORE_COLUMNS", "DATASET", "FULL_TEXT_COLUMN", "EventTableBuilder", "event_key"]

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
#: The column that keyword (unbound) Sigma values search: the whole text of the event.
FULL_TEXT_COLUMN = "message"
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


class EventTableBuilder:
    """Collects records of one batch (one file or many) and lays them out as an Arrow table.

    Each record's sparse fields are appended to three flat lists (row, name, value), and
    `table()` pivots them into columns with Arrow and NumPy: a record costs three list
    extends instead of a dictionary lookup per field, which was a third of the parse.
    `hosts` describes the records since the last `next_file`: ingest keeps it per file. It is
    worked out when asked, from the host and time lists, not kept up to date per record.
    """

    def __init__(self, source: str, unit_of: Callable[[str], str], default_host: str = "") -> None:
        self.source = source
        self.unit_of = unit_of
        self.default_host = default_host
        self._core: dict[str, list[object]] = {c: [] for c in CORE_COLUMNS}
        self._field_rows: list[int] = []
        self._field_names: list[str] = []
        self._field_values: list[str | None] = []
        self._flat_arrays: tuple[np.ndarray, pa.Array] | None = None
        self._rows = 0
        self._file_start = 0
        self._units: dict[str, str] = {}

    def event_id(self, record: RawRecord) -> str:
        """The id `add` gives this record."""
        return event_key(self.source, record.host or self.default_host, record.channel, record.key)

    def add(self, record: RawRecord, event_id: str | None = None) -> None:
        """Add a record (`event_id`: its `event_id(record)`, when already worked out)."""
        host = record.host or self.default_host
        source = self.source
        unit = self._units.get(host)
        if unit is None:
            unit = self._units[host] = self.unit_of(host)
        core = self._core
        core["event_id"].append(
            event_id
            if event_id is not None
            else event_key(source, host, record.channel, record.key)
        )
        core["ts"].append(record.ts)
        core["host"].append(host)
        core["unit"].append(unit)
        core["source"].append(source)
        core["channel"].append(record.channel)
        core["event_code"].append(record.event_code)
        core["message"].append(record.message)
        fields = record.fields
        if fields:
            self._field_rows.extend(repeat(self._rows, len(fields)))
            self._field_names.extend(fields)
            self._field_values.extend(fields.values())
        self._rows += 1

    @property
    def hosts(self) -> dict[str, HostSeen]:
        """Hosts of the records since the last `next_file`, with their counts and time spans."""
        start = self._file_start
        names: list[str] = self._core["host"][start:]  # type: ignore[assignment]
        times: list[datetime] = self._core["ts"][start:]  # type: ignore[assignment]
        distinct = set(names)
        if len(distinct) == 1:  # one host per file is the usual case: no loop in Python
            return {names[0]: HostSeen(len(names), min(times), max(times))}
        out: dict[str, HostSeen] = {}
        for host, ts in zip(names, times, strict=True):
            seen = out.get(host)
            if seen is None:
                seen = out[host] = HostSeen()
            seen.add(ts)
        return out

    def next_file(self, source: str, default_host: str) -> None:
        """Go on with the records of another file (`hosts` starts afresh)."""
        self._file_start = self._rows
        self.source, self.default_host = source, default_host

    def __len__(self) -> int:
        return self._rows

    def _flat(self) -> tuple[np.ndarray, pa.Array]:
        """The flat (row, value) lists as arrays, made once for `table` and `full_text`."""
        if self._flat_arrays is None or len(self._flat_arrays[0]) != len(self._field_rows):
            self._flat_arrays = (
                np.asarray(self._field_rows, dtype=np.int64),
                pa.array(self._field_values, pa.string()),
            )
        return self._flat_arrays

    def full_text(self) -> pa.Array:
        """Per record, its message, or (when its source has none: EVTX) its field values joined
        by newlines in the record's order, as keyword rules read it.

        Laid out from the flat value list in a few Arrow calls, where the parse runs (in worker
        processes), instead of joining hundreds of mostly empty columns after it.
        """
        rows, values = self._flat()
        joined = join_by_row(rows, values, self._rows)
        message = pa.array(self._core["message"], pa.string())
        return pc.coalesce(message, joined) if message.null_count else message

    def table(self) -> pa.Table:
        arrays = [pa.array(self._core[c], type=CORE_SCHEMA.field(c).type) for c in CORE_COLUMNS]
        names = list(CORE_COLUMNS)
        for column, rows, values in self._sparse_columns():
            arrays.append(_spread(rows, values, self._rows))
            names.append(column)
        return pa.Table.from_arrays(arrays, names=names)

    def _sparse_columns(self) -> Iterator[tuple[str, np.ndarray, pa.StringArray]]:
        """Each sparse column (in order of first appearance) with its rows and values.

        Names that differ only in case are one column, spelled as first seen; a record that
        has both keeps its first (DuckDB folds identifiers, so they could not be two columns).
        """
        if not self._field_names:
            return
        encoded = pa.array(self._field_names, pa.string()).dictionary_encode()
        spellings: list[str] = encoded.dictionary.to_pylist()
        columns: list[str] = []
        column_of: dict[str, int] = {}
        index = np.empty(len(spellings), dtype=np.int64)
        for i, name in enumerate(spellings):
            folded = name.lower()
            found = column_of.get(folded)
            if found is None:
                found = column_of[folded] = len(columns)
                columns.append(RENAMED_PREFIX + name if folded in _CORE_LOWER else name)
            index[i] = found
        which = index[encoded.indices.to_numpy()]
        order = np.argsort(which, kind="stable")  # by column, then in the order added
        flat_rows, flat_values = self._flat()
        rows = flat_rows[order]
        values = flat_values.take(pa.array(order))
        bounds = np.concatenate(([0], np.cumsum(np.bincount(which, minlength=len(columns)))))
        for k, column in enumerate(columns):
            start, end = int(bounds[k]), int(bounds[k + 1])
            at, found = rows[start:end], values.slice(start, end - start)
            first = np.ones(len(at), dtype=bool)
            first[1:] = at[1:] != at[:-1]
            if not first.all():
                at, found = at[first], found.filter(pa.array(first))
            yield column, at, found


def _spread(rows: np.ndarray, values: pa.StringArray, length: int) -> pa.Array:
    """A column of `length` rows holding `values` at `rows` (ascending) and nulls elsewhere.

    Built from the values' buffers: the offsets of the rows without a value repeat the
    offset before them. The text is the column's own slice of the shared buffer, so that a
    column sent to another process carries its values only.
    """
    _, offsets_buffer, data = values.buffers()
    offsets = np.frombuffer(
        offsets_buffer, dtype=np.int32, count=len(values) + 1, offset=values.offset * 4
    )
    start, end = int(offsets[0]), int(offsets[-1])
    lengths = np.zeros(length + 1, dtype=np.int32)
    lengths[rows + 1] = np.diff(offsets)
    valid = np.zeros(length, dtype=bool)
    valid[rows] = values.is_valid().to_numpy(zero_copy_only=False) if values.null_count else True
    return pa.StringArray.from_buffers(
        length,
        pa.py_buffer(np.cumsum(lengths, dtype=np.int32)),
        data.slice(start, end - start) if data is not None else pa.py_buffer(b""),
        pa.py_buffer(np.packbits(valid, bitorder="little")),
    )


def join_by_row(rows: np.ndarray, values: pa.Array, length: int) -> pa.Array:
    """Per row of `length`, the non-null `values` at that row joined by newlines ('' if none).

    `rows` (ascending) says the row of each value. (Arrow's element-wise join with nulls
    skipped drops rows that have no value at all, so the rows are counted here.)
    """
    if values.null_count:
        kept = values.is_valid()
        rows, values = rows[kept.to_numpy(zero_copy_only=False)], values.filter(kept)
    counts = np.bincount(rows, minlength=length) if len(rows) else np.zeros(length, np.int64)
    offsets = pa.array(np.concatenate(([0], np.cumsum(counts))).astype(np.int32))
    return pc.binary_join(pa.ListArray.from_arrays(offsets, values), "\n")
