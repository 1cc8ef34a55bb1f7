"""The event table builder: sparse fields pivoted into columns exactly as records gave them."""

from __future__ import annotations

import pickle
from datetime import datetime, timedelta

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.monitor.ingest.events import CORE_COLUMNS, EventTableBuilder
from vigil.monitor.ingest.sources.base import RawRecord

T0 = datetime(2026, 2, 1, 1, 0, 0)
#: Names that fold together, one that shadows a core column, and plain ones.
NAMES = ("Image", "image", "IMAGE", "Host", "ProcessId", "ProcessID", "CommandLine", "Ü名")
VALUES = st.one_of(st.none(), st.text(max_size=12))
RECORDS = st.lists(st.dictionaries(st.sampled_from(NAMES), VALUES, max_size=6), max_size=30)


def _reference(records: list[dict[str, str | None]]) -> dict[str, list[str | None]]:
    """Columns as a plain loop lays them out: first spelling, first value in a record wins."""
    spelling: dict[str, str] = {}
    for fields in records:
        for name in fields:
            folded = name.lower()
            if folded not in spelling:
                spelling[folded] = "data_" + name if folded in CORE_COLUMNS else name
    columns: dict[str, list[str | None]] = {c: [None] * len(records) for c in spelling.values()}
    for row, fields in enumerate(records):
        taken: set[str] = set()
        for name, value in fields.items():
            column = spelling[name.lower()]
            if column not in taken:
                taken.add(column)
                columns[column][row] = value
    return columns


def _build(records: list[dict[str, str | None]]) -> pa.Table:
    builder = EventTableBuilder("evtx", lambda host: "P01")
    for i, fields in enumerate(records):
        builder.add(
            RawRecord(T0 + timedelta(seconds=i), "ws1", dict(fields), "Security", 1, key=str(i))
        )
    return builder.table()


@settings(max_examples=300, deadline=None)
@given(RECORDS)
def test_sparse_fields_pivot_like_a_plain_loop(records: list[dict[str, str | None]]) -> None:
    table = _build(records)
    assert table.num_rows == len(records)
    assert table.column_names[: len(CORE_COLUMNS)] == list(CORE_COLUMNS)
    sparse = {n: table.column(n).to_pylist() for n in table.column_names[len(CORE_COLUMNS) :]}
    expected = _reference(records)
    assert list(sparse) == list(expected)  # columns in order of first appearance
    assert sparse == expected


def test_a_column_carries_only_its_own_text() -> None:
    records: list[dict[str, str | None]] = [
        {"CommandLine": "x" * 10_000, "Image": "a.exe"} for _ in range(50)
    ]
    table = _build(records)
    image = table.select(["Image"])
    assert len(pickle.dumps(image)) < 10_000
    assert table.column("CommandLine").to_pylist() == ["x" * 10_000] * 50
