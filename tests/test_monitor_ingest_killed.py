"""An ingest killed with SIGKILL and run again loses no event, counts none twice, and ends with
the findings, hosts and lake of an ingest that was never killed.

`vigil monitor ingest` runs in a subprocess over the 284 files of evtx-to-mitre-attack, with the
rules of SigmaHQ's windows/builtin folder, in batches of 4 MB of source (so that a kill can
land between batches: the size is the one thing set apart from the command line). It is killed at
points seen on disk: alone while its workers parse the first batch (they must not keep the
index's lock, nor stay behind); with its workers, as a crash of the machine would, once the
first batch is in the lake and once six are. Each run goes on from what the one before left,
and a last one runs to the end.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.conftest import BEFORE, TEST_PROVINCE, shared_data
from vigil.cli import build_cli
from vigil.clikit import open_deployment
from vigil.core.config import write_secret
from vigil.monitor.ingest.events import DATASET
from vigil.monitor.models import MonitorHost, MonitorScan
from vigil.store.models import FindingRow

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.filterwarnings("ignore:Arrow output on a DB-API result"),
]
BATCH_BYTES = 4 * 1024 * 1024
ENV = {"VIGIL_LANG": "en", "COLUMNS": "200", "VIGIL_CLOCK": BEFORE.isoformat() + "Z"}
#: `vigil` as installed, with the batch size set first (worker processes inherit it).
VIGIL = (
    "import sys; import vigil.monitor.ingest.pipeline as p; p.BATCH_BYTES = int(sys.argv[1]); "
    "from vigil.cli import main; sys.argv = ['vigil', *sys.argv[2:]]; main()"
)
#: How long an ingest may take before the test gives up on it (it takes a few seconds).
PATIENCE = 120.0


@dataclass(frozen=True)
class LakeState:
    """What an ingest leaves: event ids (with repeats), findings, hosts, scanned batches."""

    events: Counter[str]
    findings: dict[str, tuple[str, str, int]]
    hosts: dict[str, tuple[str, bool | None]]
    scanned: set[tuple[str, str]]


def _ingest(
    data: Path, logs: Path, until: Callable[[Path], bool] | None = None, *, alone: bool = False
) -> int:
    """Run the ingest; with `until`, kill it as soon as `until(lake)` holds, with its workers
    unless `alone`. Returns its process id (its workers' process group)."""
    command = ["monitor", "ingest", str(logs), "--data", str(data)]
    process = subprocess.Popen(
        [sys.executable, "-c", VIGIL, str(BATCH_BYTES), *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, **ENV},
        start_new_session=True,
    )
    lake = data / "lake"
    deadline = time.monotonic() + PATIENCE
    try:
        while until is not None and process.poll() is None and not until(lake):
            assert time.monotonic() < deadline, "the ingest never got there"
            time.sleep(0.002)
        if until is not None:
            assert process.poll() is None, "the ingest ended before the point to kill it at"
            if alone:
                os.kill(process.pid, signal.SIGKILL)
            else:
                os.killpg(process.pid, signal.SIGKILL)
        out, _ = process.communicate(timeout=PATIENCE)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    text = out.decode("utf-8", "replace")
    if until is None:
        assert process.returncode == 0, text
        assert "284 files" in text
    else:
        assert process.returncode == -signal.SIGKILL, text
    return process.pid


def _left_running(group: int) -> list[str]:
    """Processes of `group` still running (zombies aside), as `pid state`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):  # gone meanwhile
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            found.append(f"{stat.parent.name} {fields[0]}")
    return found


def _state(data: Path) -> LakeState:
    events: Counter[str] = Counter()
    for batch in sorted((data / "lake" / DATASET).glob("*.parquet")):
        events.update(pq.read_table(batch, columns=["event_id"]).column("event_id").to_pylist())
    with open_deployment(data) as dep, dep.store.reader() as session:
        findings = {
            r.fingerprint: (r.rule, r.subject, r.count) for r in session.scalars(select(FindingRow))
        }
        hosts = {h.host: (h.unit, h.collected) for h in session.scalars(select(MonitorHost))}
        scanned = {(s.ruleset, s.batch) for s in session.scalars(select(MonitorScan))}
    return LakeState(events, findings, hosts, scanned)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, LakeState]:
    """A deployment with the rules registered (copied for each run), the logs, and what one
    ingest that nobody killed leaves."""
    logs = shared_data("evtx", "evtx-to-mitre-attack")
    rules = shared_data("sigma", "rules", "windows", "builtin")
    base = tmp_path_factory.mktemp("killed") / "base"
    base.mkdir()
    (base / "vigil.toml").write_text(TEST_PROVINCE, encoding="utf-8")
    write_secret(base)
    added = CliRunner().invoke(
        build_cli(), ["rules", "add", str(rules), "--name", "builtin", "--data", str(base)], env=ENV
    )
    assert added.exit_code == 0, added.output
    clean = base.with_name("clean")
    shutil.copytree(base, clean)
    _ingest(clean, logs)
    return base, logs, _state(clean)


def _batches(lake: Path) -> int:
    return len(list((lake / DATASET).glob("*.parquet")))


def _parsing(lake: Path) -> bool:
    """The workers have left a parsed table in the spool."""
    return any((lake / ".spool").glob("*/*.arrow"))


def test_an_ingest_killed_and_run_again_loses_nothing_and_repeats_nothing(
    prepared: tuple[Path, Path, LakeState], tmp_path: Path
) -> None:
    base, logs, clean = prepared
    data = tmp_path / "data"
    shutil.copytree(base, data)
    lake = data / "lake"

    # Killed three times, each run going on from what the one before left; the first time
    # alone, as `kill -9 <pid>` does, leaving its workers without it.
    first = _ingest(data, logs, until=_parsing, alone=True)
    assert _batches(lake) == 0 and any((lake / ".spool").iterdir())  # a spool left behind
    _ingest(data, logs, until=lambda lake: _batches(lake) >= 1)
    if Path("/proc/self/stat").exists():
        assert _left_running(first) == []  # the workers went with their ingest
    _ingest(data, logs, until=lambda lake: _batches(lake) >= 6)
    killed = _state(data)
    assert 0 < sum(killed.events.values()) < sum(clean.events.values())
    assert set(killed.events) <= set(clean.events)

    # What the killed ingests left (a spool, a lock they held) does not stand in the way.
    _ingest(data, logs)
    again = _state(data)
    # No event lost and none twice: each id as often as in the ingest never killed (a few
    # records are in two or three of these files, the same event exported again).
    assert again.events == clean.events
    assert again.findings == clean.findings
    assert again.hosts == clean.hosts
    assert {batch for _set, batch in again.scanned} == {
        p.stem for p in (lake / DATASET).glob("*.parquet")
    }
    assert not [p for p in lake.rglob("*") if ".tmp" in p.name or p.suffix == ".arrow"]
