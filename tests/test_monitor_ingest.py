"""Ingest into the lake: idempotent per file, resumable, quarantining, placing hosts in units."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import shared_data
from vigil.core.errors import PermissionDenied
from vigil.deployment import Deployment
from vigil.lake.datasets import Lake
from vigil.monitor.events import CORE_COLUMNS, DATASET
from vigil.monitor.hosts import list_hosts, set_host_unit
from vigil.monitor.ingest import ALREADY, INGESTED, UNKNOWN_FORMAT, file_batch_id, ingest_files
from vigil.monitor.ingest import parse_file as _parse_file

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
    status = {Path(f.path).name: f.status for f in again.files}
    assert status == {
        "auth.log": ALREADY,
        "portal-access.log": ALREADY,
        "security.jsonl": ALREADY,
        "notes.txt": UNKNOWN_FORMAT,
        "auth-copy.log": ALREADY,
    }
    assert deployment.lake.rows(DATASET) == rows and _event_ids(deployment) == ids
    assert deployment.quarantine.count(DATASET) == 2  # bad records are kept once


def test_crash_mid_ingest_leaves_no_partial_batch_and_resumes(
    deployment: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _logs(tmp_path / "logs")
    real_write = Lake.write
    calls: list[str] = []

    def dying_write(self: Lake, dataset: str, table: pa.Table, batch_id: str) -> bool:
        calls.append(batch_id)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_write(self, dataset, table, batch_id)

    monkeypatch.setattr(Lake, "write", dying_write)
    with pytest.raises(OSError, match="disk full"):
        ingest_files(deployment, deployment.system(), [folder], workers=1)
    assert len(deployment.lake.batches(DATASET)) == 1
    monkeypatch.setattr(Lake, "write", real_write)
    result = ingest_files(deployment, deployment.system(), [folder], workers=1)
    assert [f.status for f in result.files].count(ALREADY) == 1
    assert len(deployment.lake.batches(DATASET)) == 3
    assert deployment.lake.rows(DATASET) == 5
    assert not list((deployment.lake.root / DATASET).glob("*.tmp-*"))


def test_quarantine_survives_a_stop_between_batch_and_quarantine(
    deployment: Deployment, tmp_path: Path
) -> None:
    folder = _logs(tmp_path / "logs")
    log = folder / "auth.log"
    from vigil.monitor.ingest import _Task

    # The worker wrote the batch, then the ingest stopped before keeping the bad line.
    _parse_file(
        _Task(str(log), file_batch_id(log), None, "x", {}, "P01", str(deployment.lake.root))
    )
    assert deployment.quarantine.count(DATASET) == 0
    ingest_files(deployment, deployment.system(), [log], workers=1)
    (entry,) = list(deployment.quarantine.entries(DATASET))
    assert entry.line == 3 and entry.record == file_batch_id(log)[:16]


def test_parallel_parse_gives_the_same_lake(tmp_path: Path, deployment: Deployment) -> None:
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
    parallel = ingest_files(other, other.system(), samples, workers=2)
    assert parallel.events == serial.events == 10
    assert _event_ids(other) == serial_ids
    for batch in serial.batches:
        left = pq.read_table(deployment.lake.root / DATASET / f"{batch}.parquet")
        right = pq.read_table(other.lake.root / DATASET / f"{batch}.parquet")
        assert left.equals(right)
    other.close()


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
