"""Ingest into the lake: one batch per ingest, idempotent per file, resumable, quarantining,
placing hosts in units."""

from __future__ import annotations

import os
import shutil
import struct
import threading
import zlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import shared_data
from vigil.core.errors import PermissionDenied
from vigil.deployment import Deployment
from vigil.lake.batches import INDEX_NAME, BatchIndex, batch_files, file_hash
from vigil.lake.quarantine import Quarantine, QuarantineEntry
from vigil.monitor.ingest import pipeline as ingest_module
from vigil.monitor.ingest.events import CORE_COLUMNS, DATASET
from vigil.monitor.ingest.hosts import list_hosts, set_host_unit
from vigil.monitor.ingest.pipeline import (
    ALREADY,
    INGESTED,
    UNKNOWN_FORMAT,
    IngestResult,
    combine_tables,
    ingest_files,
)

SYSLOG = (
    "<38>1 2026-02-01T01:00:00Z web01 sshd 100 - - Failed password for root from 10.0.0.5\n"
    "<38>1 2026-02-01T01:00:05Z web01 sshd 100 - - Failed password for root from 10.0.0.5\n"
    "this line is not syslog\n"
    "<38>1 2026-02-01T01:00:05Z web01 sshd 100 - - Failed password for root from 10.0.0.5\n"
)
ACCESS = (
    '10.9.8.7 - - [01/Feb/2026:08:00:00 +0700] "GET /wp-login.php HTTP/1.1" 404 12 "-" "curl/8"\n'
)
JSONL = (
    '{"@timestamp": "2026-02-01T00:30:00Z", "Hostname": "ws-07", "EventID": 4625, '
    '"Channel": "Security", "IpAddress": "10.0.0.9", "TargetUserName": "admin"}\n'
)


def _regression_evtx(name: str) -> Path:
    return next(shared_data("sigma", "regression_data").rglob(name))


def _logs(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "auth.log").write_text(SYSLOG, encoding="utf-8")
    (folder / "portal-access.log").write_text(ACCESS, encoding="utf-8")
    (folder / "security.jsonl").write_text(JSONL, encoding="utf-8")
    (folder / "notes.txt").write_text("not a log\n", encoding="utf-8")
    return folder


def _status_by_name(result: IngestResult) -> dict[str, str]:
    """What the ingest did with each file, by file name."""
    return {Path(f.path).name: f.status for f in result.files}


def _event_ids(deployment: Deployment) -> list[str]:
    table = deployment.lake.read(DATASET)
    return sorted(table.column("event_id").to_pylist())


def test_text_formats_land_with_the_core_schema(deployment: Deployment, tmp_path: Path) -> None:
    folder = _logs(tmp_path / "logs")
    result = ingest_files(deployment, deployment.system(), [folder], unit="C01", workers=1)
    status = {
        Path(f.path).name: (f.status, f.source, f.events, f.quarantined) for f in result.files
    }
    assert status == {
        "auth.log": (INGESTED, "syslog", 3, 1),
        "portal-access.log": (INGESTED, "access", 1, 0),
        "security.jsonl": (INGESTED, "jsonl", 1, 0),
        "notes.txt": (UNKNOWN_FORMAT, "", 0, 1),
    }
    table = deployment.lake.read(DATASET)
    assert table.column_names[: len(CORE_COLUMNS)] == list(CORE_COLUMNS)
    rows = {r["host"]: r for r in table.to_pylist()}
    assert set(rows) == {"web01", "portal-access", "ws-07"}
    assert rows["ws-07"]["event_code"] == 4625 and rows["ws-07"]["IpAddress"] == "10.0.0.9"
    assert rows["portal-access"]["cs-uri-stem"] == "/wp-login.php"
    assert {r["unit"] for r in rows.values()} == {"C01"}
    # Two identical lines are two events with two ids.
    assert len(set(table.column("event_id").to_pylist())) == 5
    bad = {e.reason: e for e in deployment.quarantine.entries(DATASET)}
    assert bad["syslog: not a syslog line (RFC 5424, RFC 3164 or ISO timestamp)"].line == 3
    assert "no log source recognises this file" in " ".join(bad)


def test_same_file_twice_adds_nothing(deployment: Deployment, tmp_path: Path) -> None:
    folder = _logs(tmp_path / "logs")
    first = ingest_files(deployment, deployment.system(), [folder], workers=1)
    rows, ids = deployment.lake.rows(DATASET), _event_ids(deployment)
    copy = tmp_path / "copy" / "auth-copy.log"
    copy.parent.mkdir()
    shutil.copy(folder / "auth.log", copy)
    again = ingest_files(deployment, deployment.system(), [folder, copy], workers=1)
    assert first.events == 5 and again.events == 0
    status = _status_by_name(again)
    assert status == {
        "auth.log": ALREADY,
        "portal-access.log": ALREADY,
        "security.jsonl": ALREADY,
        "notes.txt": UNKNOWN_FORMAT,
        "auth-copy.log": ALREADY,
    }
    assert deployment.lake.rows(DATASET) == rows and _event_ids(deployment) == ids
    assert deployment.quarantine.count(DATASET) == 2  # bad records are kept once


def test_one_batch_per_ingest_names_its_files(deployment: Deployment, tmp_path: Path) -> None:
    folder = _logs(tmp_path / "logs")
    result = ingest_files(deployment, deployment.system(), [folder], workers=1)
    (batch,) = result.batches
    assert deployment.lake.batches(DATASET) == [batch]
    held = batch_files(deployment.lake.root / DATASET / f"{batch}.parquet")
    assert [(Path(f.path).name, f.source, f.first, f.rows) for f in held] == [
        ("auth.log", "syslog", 0, 3),
        ("portal-access.log", "access", 3, 1),
        ("security.jsonl", "jsonl", 4, 1),
    ]
    assert held[0].sha == file_hash(folder / "auth.log")
    assert [e.line for e in held[0].quarantine] == [3]
    # A later ingest with one new file writes a batch of that file alone.
    extra = tmp_path / "more" / "db.log"
    extra.parent.mkdir()
    extra.write_text(SYSLOG.replace("web01", "db01"), encoding="utf-8")
    later = ingest_files(deployment, deployment.system(), [folder, extra], workers=1)
    (second,) = later.batches
    assert [
        Path(f.path).name for f in batch_files(deployment.lake.root / DATASET / f"{second}.parquet")
    ] == ["db.log"]
    assert {f.batch for f in later.files if f.status == ALREADY} == {batch}
    assert deployment.lake.rows(DATASET) == 8


def test_crash_while_writing_leaves_no_partial_batch_and_resumes(
    deployment: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _logs(tmp_path / "logs")
    real_write = pq.write_table

    def dying_write(table: pa.Table, where: object, **kwargs: object) -> None:
        real_write(table.slice(0, 2), where, **kwargs)  # half written, then the disk is full
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", dying_write)
    with pytest.raises(OSError, match="disk full"):
        ingest_files(deployment, deployment.system(), [folder], workers=1)
    assert deployment.lake.batches(DATASET) == []
    monkeypatch.setattr(pq, "write_table", real_write)
    result = ingest_files(deployment, deployment.system(), [folder], workers=1)
    assert [f.status for f in result.files].count(INGESTED) == 3
    assert len(deployment.lake.batches(DATASET)) == 1
    assert deployment.lake.rows(DATASET) == 5
    assert not list((deployment.lake.root / DATASET).glob("*.tmp-*"))


def test_stop_between_batch_and_index_adds_nothing_twice(
    deployment: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _logs(tmp_path / "logs")

    def stop(self: BatchIndex, batch: str, shas: list[str]) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(BatchIndex, "add", stop)
    with pytest.raises(KeyboardInterrupt):
        ingest_files(deployment, deployment.system(), [folder], workers=1)
    assert deployment.lake.rows(DATASET) == 5
    assert deployment.quarantine.count(DATASET) == 0
    monkeypatch.undo()
    # The index lacks the batch: it is indexed from the batch's own metadata.
    again = ingest_files(deployment, deployment.system(), [folder], workers=1)
    assert again.events == 0
    assert [f.status for f in again.files].count(ALREADY) == 3
    assert deployment.lake.rows(DATASET) == 5
    reasons = sorted(e.reason.split(":")[0] for e in deployment.quarantine.entries(DATASET))
    assert reasons == ["no log source recognises this file (evtx, jsonl, access, syslog)", "syslog"]


def test_hosts_are_placed_before_their_batch_is_in_the_lake(
    deployment: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stop once the batch is written: the next ingest finds every file in the lake, and
    must still know their hosts, or a host would never be listed (nor its logs' kind)."""
    folder = _logs(tmp_path / "logs")

    def stop(self: BatchIndex, batch: str, shas: list[str]) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(BatchIndex, "add", stop)
    with pytest.raises(KeyboardInterrupt):
        ingest_files(deployment, deployment.system(), [folder], unit="C01", workers=1)
    monkeypatch.undo()
    again = ingest_files(deployment, deployment.system(), [folder], unit="C01", workers=1)
    assert again.events == 0
    with deployment.store.reader() as session:
        hosts = {(h.host, h.unit) for h in list_hosts(session, deployment.system())}
    assert hosts == {("web01", "C01"), ("portal-access", "C01"), ("ws-07", "C01")}


def test_quarantine_survives_a_stop_between_batch_and_quarantine(
    deployment: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _logs(tmp_path / "logs")
    log = folder / "auth.log"

    def stop(self: Quarantine, entry: QuarantineEntry) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Quarantine, "add", stop)
    with pytest.raises(KeyboardInterrupt):
        ingest_files(deployment, deployment.system(), [log], workers=1)
    monkeypatch.undo()
    assert deployment.quarantine.count(DATASET) == 0
    ingest_files(deployment, deployment.system(), [log], workers=1)
    (entry,) = list(deployment.quarantine.entries(DATASET))
    assert entry.line == 3 and entry.record == file_hash(log)[:16]


def test_lost_index_and_batches_of_one_file_are_recognised(
    deployment: Deployment, tmp_path: Path
) -> None:
    folder = _logs(tmp_path / "logs")
    ingest_files(deployment, deployment.system(), [folder / "auth.log"], workers=1)
    (deployment.lake.root / DATASET / INDEX_NAME).unlink()
    # Earlier versions wrote one batch per file, named by the file's hash.
    jsonl = folder / "security.jsonl"
    older = pa.table({"event_id": ["e1"], "host": ["ws-07"]}).replace_schema_metadata(
        {"vigil.quarantine": "[]"}
    )
    deployment.lake.write(DATASET, older, file_hash(jsonl))
    again = ingest_files(deployment, deployment.system(), [folder], workers=1)
    status = _status_by_name(again)
    assert status == {
        "auth.log": ALREADY,
        "security.jsonl": ALREADY,
        "portal-access.log": INGESTED,
        "notes.txt": UNKNOWN_FORMAT,
    }
    assert again.events == 1


def test_worker_tables_fold_column_spellings() -> None:
    left = pa.table({"event_id": ["a"], "ProcessId": ["1"]})
    right = pa.table({"event_id": ["b"], "ProcessID": ["2"], "Image": ["x"]})
    combined = combine_tables([left, right])
    assert combined.column_names == ["event_id", "ProcessId", "Image"]
    assert combined.column("ProcessId").to_pylist() == ["1", "2"]


def test_parallel_parse_gives_the_same_lake(
    tmp_path: Path, deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    samples = [
        _regression_evtx(n)
        for n in (
            "7c3a5b1d-9e2f-4a8c-b5d7-1e0f3c6a9b2d.evtx",
            "0b9ad457-2554-44c1-82c2-d56a99c42377.evtx",
            "45e112d0-7759-4c2a-aa36-9f8fb79d3393.evtx",
        )
    ]
    serial = ingest_files(deployment, deployment.system(), samples, workers=1)
    serial_ids = _event_ids(deployment)
    (tmp_path / "other").mkdir()
    shutil.copy(deployment.settings.config_path, tmp_path / "other" / "vigil.toml")
    other = Deployment.open(deployment.settings.model_copy(update={"data": tmp_path / "other"}))
    # Small files are parsed in this process: make the workers start anyway.
    monkeypatch.setattr(ingest_module, "PARALLEL_MIN_BYTES", 0)
    stale = other.lake.root / ".spool" / "left-by-a-killed-ingest"
    stale.mkdir(parents=True)
    (stale / "x.arrow").write_bytes(b"half a table")
    monkeypatch.setattr(ingest_module, "CHUNKS_PER_WORKER", 2)
    parallel = ingest_files(other, other.system(), samples, workers=2)
    assert parallel.events == serial.events == 10
    assert _event_ids(other) == serial_ids
    for batch in serial.batches:
        left = pq.read_table(deployment.lake.root / DATASET / f"{batch}.parquet")
        right = pq.read_table(other.lake.root / DATASET / f"{batch}.parquet")
        assert left.equals(right)
    # The workers' tables came back through spool files: the same tables, full texts included,
    # and no file left behind (nor what a killed ingest had left).
    assert parallel.tables.keys() == serial.tables.keys()
    for batch, table in serial.tables.items():
        assert parallel.tables[batch].equals(table)
    assert [p for p in (other.lake.root / ".spool").rglob("*") if p.is_file()] == []
    # Batches of one file each: workers parse the next while this process writes the last.
    (tmp_path / "third").mkdir()
    shutil.copy(deployment.settings.config_path, tmp_path / "third" / "vigil.toml")
    third = Deployment.open(deployment.settings.model_copy(update={"data": tmp_path / "third"}))
    monkeypatch.setattr(ingest_module, "BATCH_BYTES", 1)
    calls: list[int] = []
    split = ingest_files(
        third, third.system(), samples, workers=2, while_parsing=lambda: calls.append(1)
    )
    assert len(split.batches) == 3 and len(set(split.batches)) == 3
    assert calls == [1]  # once, while the workers parse the first batch
    ingest_files(third, third.system(), samples, workers=1, while_parsing=lambda: calls.append(2))
    assert calls == [1]  # without workers: not called
    assert [f.events for f in split.files] == [f.events for f in serial.files]
    assert _event_ids(third) == serial_ids
    other.close()
    third.close()


def test_hosts_are_placed_and_unknown_ones_listed(deployment: Deployment, tmp_path: Path) -> None:
    actor = deployment.system()
    folder = _logs(tmp_path / "logs")
    ingest_files(deployment, actor, [folder / "auth.log"], workers=1)
    with deployment.store.reader() as session:
        unknown = list_hosts(session, actor, only_unknown=True)
    assert [(h.host, h.unit, h.source) for h in unknown] == [("web01", "P01", "unknown")]
    # A later ingest that names the unit places the parked host.
    ingest_files(
        deployment, actor, [folder / "security.jsonl", folder / "auth.log"], unit="C02", workers=1
    )
    with deployment.store.session() as session:
        set_host_unit(session, actor, deployment.units, "web01", "C01-POL")
    with deployment.store.reader() as session:
        hosts = {h.host: (h.unit, h.source) for h in list_hosts(session, actor)}
    assert hosts == {"ws-07": ("C02", "ingest"), "web01": ("C01-POL", "manual")}


def test_ingest_checks_the_actors_unit(deployment: Deployment, tmp_path: Path) -> None:
    from vigil.core.access import Actor, Role

    officer = Actor("an", Role.ANALYST, "C02", frozenset({"C02"}))
    with pytest.raises(PermissionDenied):
        ingest_files(deployment, officer, [_logs(tmp_path / "l")], unit="C01")
    viewer = Actor("v", Role.VIEWER, "C02", frozenset({"C02"}))
    with pytest.raises(PermissionDenied):
        ingest_files(deployment, viewer, [_logs(tmp_path / "m")])


def test_unchanged_files_are_not_read_again(
    deployment: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _logs(tmp_path / "logs")
    hashed: list[str] = []

    def counting_hash(path: Path) -> str:
        hashed.append(path.name)
        return file_hash(path)

    monkeypatch.setattr(ingest_module, "file_hash", counting_hash)
    first = ingest_files(deployment, deployment.system(), [folder], workers=1)
    assert sorted(hashed) == ["auth.log", "notes.txt", "portal-access.log", "security.jsonl"]
    # A watched folder listed again: nothing is read (notes.txt, never in the lake, is sniffed).
    hashed.clear()
    again = ingest_files(deployment, deployment.system(), [folder], workers=1)
    assert hashed == [] and again.events == 0
    assert {f.sha for f in again.files if f.status == ALREADY} == {
        f.sha for f in first.files if f.status == INGESTED
    }
    # Touched without a change: read and recognised by content; changed: ingested.
    hashed.clear()
    auth = folder / "auth.log"
    auth.touch()
    os.utime(auth, ns=(auth.stat().st_atime_ns, auth.stat().st_mtime_ns + 10**9))
    (folder / "security.jsonl").write_text(JSONL.replace("ws-07", "ws-08"), encoding="utf-8")
    third = ingest_files(deployment, deployment.system(), [folder], workers=1)
    assert sorted(hashed) == ["auth.log", "security.jsonl"]
    status = _status_by_name(third)
    assert status["auth.log"] == ALREADY and status["security.jsonl"] == INGESTED
    assert third.events == 1 and len(deployment.lake.batches(DATASET)) == 2


def test_identical_files_in_one_ingest_are_stored_once(
    deployment: Deployment, tmp_path: Path
) -> None:
    folder = _logs(tmp_path / "logs")
    shutil.copy(folder / "auth.log", folder / "auth-copy.log")
    result = ingest_files(deployment, deployment.system(), [folder], workers=1)
    status = _status_by_name(result)
    assert status["auth-copy.log"] == INGESTED and status["auth.log"] == ALREADY
    (batch,) = result.batches
    held = batch_files(deployment.lake.root / DATASET / f"{batch}.parquet")
    # auth-copy.log sorts first, so it is the one stored; the other's rows are dropped.
    assert [(Path(f.path).name, f.first, f.rows) for f in held] == [
        ("auth-copy.log", 0, 3),
        ("portal-access.log", 3, 1),
        ("security.jsonl", 4, 1),
    ]
    assert deployment.lake.rows(DATASET) == 5 == result.events
    assert result.tables[batch].num_rows == 5


def test_write_behind_returns_before_the_last_batch_is_in_the_lake(
    deployment: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _logs(tmp_path / "logs")
    release = threading.Event()
    write = deployment.lake.write

    def slow_write(dataset: str, table: pa.Table, batch: str) -> None:
        release.wait(10)
        write(dataset, table, batch)

    monkeypatch.setattr(deployment.lake, "write", slow_write)
    result = ingest_files(deployment, deployment.system(), [folder], workers=1, write_behind=True)
    (batch,) = result.batches
    # The events are there to scan; the lake has nothing yet.
    assert result.tables[batch].num_rows == 5 and deployment.lake.batches(DATASET) == []
    release.set()
    result.finish()
    assert deployment.lake.batches(DATASET) == [batch]
    again = ingest_files(deployment, deployment.system(), [folder], workers=1)
    assert again.events == 0


def test_a_failed_write_behind_is_raised_and_releases_the_index(
    deployment: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _logs(tmp_path / "logs")

    def failing_write(dataset: str, table: pa.Table, batch: str) -> None:
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(deployment.lake, "write", failing_write)
        result = ingest_files(
            deployment, deployment.system(), [folder], workers=1, write_behind=True
        )
        with pytest.raises(OSError, match="disk full"):
            result.finish()
    assert deployment.lake.batches(DATASET) == []
    # Nothing was claimed: the next ingest takes the files.
    retry = ingest_files(deployment, deployment.system(), [folder], workers=1)
    assert retry.events == 5 and len(deployment.lake.batches(DATASET)) == 1


def test_a_cleared_log_numbering_records_again_loses_no_event(
    deployment: Deployment, tmp_path: Path
) -> None:
    """Clearing a Windows log (what an intruder does) starts its record ids at 1 again: a new
    event with an old id, forwarded as JSON, is a new event, not a copy of the old one. The
    same record sent twice is still one event."""
    line = (
        '{{"@timestamp": "{ts}", "Hostname": "ws-07", "EventID": {code}, "Channel": "Security", '
        '"EventRecordID": 1, "TargetUserName": "admin"}}\n'
    )
    before = line.format(ts="2026-02-01T00:30:00Z", code=4625)
    after_clear = line.format(ts="2026-02-03T09:00:00Z", code=4625)
    other_code = line.format(ts="2026-02-01T00:30:00Z", code=4624)
    (tmp_path / "a.jsonl").write_text(before + after_clear + other_code, encoding="utf-8")
    (tmp_path / "b.jsonl").write_text(before + after_clear, encoding="utf-8")  # sent again
    result = ingest_files(deployment, deployment.system(), [tmp_path], workers=1)
    assert result.events == 5
    assert len(set(_event_ids(deployment))) == 3
    ecs = (
        '{{"@timestamp": "{ts}", "host": {{"name": "ws-08"}}, "winlog": {{"record_id": 1, '
        '"channel": "Security"}}, "event": {{"code": "4625"}}}}\n'
    )
    (tmp_path / "ecs").mkdir()
    (tmp_path / "ecs" / "c.jsonl").write_text(
        ecs.format(ts="2026-02-01T00:30:00Z") + ecs.format(ts="2026-02-03T09:00:00Z"),
        encoding="utf-8",
    )
    ingest_files(deployment, deployment.system(), [tmp_path / "ecs"], workers=1)
    assert len(set(_event_ids(deployment))) == 5


def test_an_evtx_log_read_again_after_it_changed_adds_only_its_new_records(
    deployment: Deployment, tmp_path: Path
) -> None:
    """A live Windows log is read again each time it changes: here it is first cut short,
    then whole, at the same path. The second read adds only the records the lake lacks (by
    event id); read again unchanged, or with only its header changed, it adds nothing, and
    is not parsed again while it stays so."""
    sample = (
        shared_data("evtx", "evtx-to-mitre-attack")
        / "TA0008-Lateral Movement"
        / "T1021.002-SMB Windows Admin Shares"
        / "ID4688,4697,5140-5145 PSexec remote execution + admin share.evtx"
    )
    whole = sample.read_bytes()
    log = tmp_path / "logs" / "Security.evtx"
    log.parent.mkdir()
    log.write_bytes(whole[: 4096 + 20000])  # the records written so far
    actor = deployment.system()
    first = ingest_files(deployment, actor, [log.parent], workers=1)
    assert (first.events, first.files[0].repeated) == (21, 0)
    log.write_bytes(whole)
    second = ingest_files(deployment, actor, [log.parent], workers=1)
    (outcome,) = second.files
    assert (outcome.status, outcome.events, outcome.repeated) == (INGESTED, 9, 21)
    ids = _event_ids(deployment)
    assert len(ids) == len(set(ids)) == 30
    # Unchanged: not read.
    (again,) = ingest_files(deployment, actor, [log.parent], workers=1).files
    assert (again.status, again.repeated) == (ALREADY, 0)
    # Only the header changed (Windows rewrites it as it goes): read, nothing kept; then not
    # read again while it stays so.
    data = bytearray(whole)
    struct.pack_into("<Q", data, 48, 7)
    struct.pack_into("<I", data, 124, zlib.crc32(bytes(data[:120])))
    log.write_bytes(bytes(data))
    (stamped,) = ingest_files(deployment, actor, [log.parent], workers=1).files
    assert (stamped.status, stamped.events, stamped.repeated) == (ALREADY, 0, 30)
    (settled,) = ingest_files(deployment, actor, [log.parent], workers=1).files
    assert (settled.status, settled.repeated) == (ALREADY, 0)
    assert _event_ids(deployment) == ids
    # The same records under another name are another file: they are not looked for.
    shutil.copy(log, tmp_path / "copy.evtx")
    copied = ingest_files(deployment, actor, [tmp_path / "copy.evtx"], workers=1)
    assert copied.files[0].repeated == 0
