"""Real SigmaHQ rules over real EVTX files from ../shared/data, for the monitor's regression tests.

Each helper skips the calling test, naming the missing folder, when the reference data is absent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

import pyarrow as pa

from tests.conftest import SHARED_DATA, compiled, shared_data
from vigil.lake.duckdb_engine import DuckDBEngine
from vigil.lake.engine import LakeEngine
from vigil.lake.quarantine import QuarantineEntry
from vigil.monitor.detect.sigma.rules import ConvertedRule, convert_rules, load_rules
from vigil.monitor.detect.sigma.runner import RuleRunner, combine_batches, with_full_text
from vigil.monitor.ingest.events import EventTableBuilder
from vigil.monitor.ingest.sources.base import RawRecord
from vigil.monitor.ingest.sources.evtx import EvtxSource

SIGMA_RULES = SHARED_DATA / "sigma" / "rules" / "windows"
EVTX = SHARED_DATA / "evtx" / "evtx-to-mitre-attack"
T0 = datetime(2026, 3, 14, 1, 0, 0)


def real_rule(relative: str) -> ConvertedRule:
    """One SigmaHQ Windows rule (path under sigma/rules/windows), converted."""
    path = shared_data("sigma", "rules", "windows") / relative
    files, issues = load_rules(path)
    assert issues == [], issues
    (converted,) = convert_rules(files)
    assert converted.sql is not None, converted.error
    return converted


def real_records(relative: str) -> list[RawRecord]:
    """The records of one EVTX file (path under evtx/evtx-to-mitre-attack), none quarantined."""
    path = shared_data("evtx", "evtx-to-mitre-attack") / relative
    records: list[RawRecord] = []
    for item in EvtxSource().read(path):
        assert not isinstance(item, QuarantineEntry), item
        records.append(item)
    return records


def table_of(records: Iterable[RawRecord]) -> pa.Table:
    """Records as the runner takes them (one batch, full text filled)."""
    builder = EventTableBuilder("evtx", lambda host: "P01")
    for record in records:
        builder.add(record)
    return with_full_text(combine_batches([builder.table()]))


def synthetic_table(
    events: Sequence[Mapping[str, str | None]], channel: str, code: int
) -> pa.Table:
    """Events of one channel and id, each with the given EventData fields."""
    return table_of(
        RawRecord(
            ts=T0 + timedelta(seconds=i),
            host="ws1",
            fields=dict(fields),
            channel=channel,
            event_code=code,
            key=str(i),
        )
        for i, fields in enumerate(events)
    )


def matched_rows(
    rules: Sequence[ConvertedRule], table: pa.Table, engine: LakeEngine | None = None
) -> list[tuple[str, int]]:
    """(rule id, row) of every match, sorted; the engine is a fresh DuckDB unless given."""
    runner = RuleRunner(engine if engine is not None else DuckDBEngine())
    hits, stats = runner.run(table, [compiled(r) for r in rules])
    assert stats.errors == {}
    return sorted((h.rule_id, h.row) for h in hits)


def record_ids(table: pa.Table, rows: Iterable[int]) -> list[str]:
    """The EventRecordID of each row (what the EVTX file numbers the event)."""
    ids = table.column("EventRecordID").to_pylist()
    return [str(ids[row]) for row in rows]
