"""Files that grow between ingests (appended logs): only what was appended is read."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_monitor_ingest import SYSLOG
from vigil.deployment import Deployment
from vigil.lake.batches import batch_files
from vigil.lake.quarantine import QuarantineEntry
from vigil.monitor.ingest.events import DATASET
from vigil.monitor.ingest.pipeline import ALREADY, INGESTED, ingest_files
from vigil.monitor.ingest.sources.base import RawRecord
from vigil.monitor.ingest.sources.syslog import SyslogSource

LINE = "<38>1 2026-02-01T01:00:{s:02d}Z web01 sshd 100 - - Failed password for {u} from 10.0.0.5"
#: Lines to draw from: repeats (numbered apart), a bad line, a blank one.
LINES = [LINE.format(s=s, u=u) for s in (0, 5) for u in ("root", "admin")] + [
    "not syslog at all",
    "",
]


def _read(items: list[RawRecord | QuarantineEntry]) -> list[tuple[object, ...]]:
    return [
        (i.key, i.ts, i.host, tuple(sorted(i.fields.items())))
        if isinstance(i, RawRecord)
        else ("quarantine", i.line, i.reason)
        for i in items
    ]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(LINES), max_size=12), st.lists(st.sampled_from(LINES), max_size=8))
def test_reading_the_appended_lines_gives_what_a_whole_read_gives(
    before: list[str], after: list[str]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "auth.log"
        head = "".join(line + "\n" for line in before).encode()
        path.write_bytes(head + "".join(line + "\n" for line in after).encode())
        source = SyslogSource()
        whole = _read(list(source.read(path)))
        head_only = Path(folder) / "head.log"
        head_only.write_bytes(head)
        known = len(list(source.read(head_only)))
        assert _read(list(source.read_appended(path, len(head)))) == whole[known:]


def test_a_grown_log_adds_only_its_new_lines(deployment: Deployment, tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text(SYSLOG, encoding="utf-8")
    first = ingest_files(deployment, deployment.system(), [log], workers=1)
    assert first.events == 3 and deployment.quarantine.count(DATASET) == 1
    extra = (
        "<38>1 2026-02-01T01:00:05Z web01 sshd 100 - - Failed password for root from 10.0.0.5\n"
        "still not syslog\n"
    )
    with log.open("a", encoding="utf-8") as fh:
        fh.write(extra)
    grown = ingest_files(deployment, deployment.system(), [log], workers=1)
    (outcome,) = grown.files
    assert (outcome.status, outcome.events, outcome.offset) == (INGESTED, 1, len(SYSLOG))
    (batch,) = grown.batches
    (held,) = batch_files(deployment.lake.root / DATASET / f"{batch}.parquet")
    assert (held.offset, held.rows) == (len(SYSLOG), 1)
    # The new bad line is quarantined with its line number in the whole file.
    assert [e.line for e in deployment.quarantine.entries(DATASET)] == [3, 6]
    # The third identical line is a new event, not the second again.
    rows = deployment.lake.query(f"SELECT event_id FROM {DATASET}")
    assert rows.num_rows == 4 and len(set(rows.column("event_id").to_pylist())) == 4
    # Nothing changed since: nothing is read; a copy of the whole file is already in the lake.
    copy = tmp_path / "copy" / "auth.log"
    copy.parent.mkdir()
    copy.write_bytes(log.read_bytes())
    again = ingest_files(deployment, deployment.system(), [log, copy], workers=1)
    assert [f.status for f in again.files] == [ALREADY, ALREADY] and again.events == 0


def test_a_rewritten_log_is_read_whole(deployment: Deployment, tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text(SYSLOG, encoding="utf-8")
    ingest_files(deployment, deployment.system(), [log], workers=1)
    # Longer, but its start changed (rotated and rewritten): no offset, every line read.
    log.write_text(SYSLOG.replace("root", "rooT") + SYSLOG, encoding="utf-8")
    result = ingest_files(deployment, deployment.system(), [log], workers=1)
    (outcome,) = result.files
    assert (outcome.status, outcome.offset, outcome.events) == (INGESTED, 0, 6)
