"""Findings are never lost between a detector and the store.

The store is made to fail once, the way a locked SQLite database does, in the middle of
recording: by `vigil detect`, by a one-shot `vigil monitor ingest` and by its watcher. The run
says so; the next run stores every finding, the same as a deployment where nothing failed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.conftest import BEFORE, _make_deployment
from tests.test_monitor_cli import LOGONS
from tests.test_monitor_scan import BRUTE_FORCE, DISTINCT_USERS, FAILED_LOGON
from vigil.cli import build_cli
from vigil.clikit import EXIT_ERROR
from vigil.core.indicators import Indicator, IndicatorKind
from vigil.deployment import Deployment
from vigil.monitor.models import MonitorScan
from vigil.store.findings import RecordResult, record_findings
from vigil.store.indicators import upsert_indicators
from vigil.store.models import FindingRow

pytestmark = pytest.mark.filterwarnings("ignore:Arrow output on a DB-API result")
runner = CliRunner()
#: English, wide lines, and the deployments' clock: the sensor is silent at this time.
ENV = {"VIGIL_LANG": "en", "COLUMNS": "200", "VIGIL_CLOCK": BEFORE.isoformat() + "Z"}
LOCKED = "database is locked"


def _fail_once(monkeypatch: pytest.MonkeyPatch, module: str) -> list[int]:
    """`record_findings`, as `module` calls it, writes every finding and then fails once, as a
    locked database does (the transaction is rolled back). Returns the calls made."""
    calls: list[int] = []

    def failing(session: Session, findings: Any) -> RecordResult:
        result = record_findings(session, findings)
        calls.append(len(calls))
        if len(calls) == 1:
            orig = sqlite3.OperationalError(LOCKED)
            raise OperationalError("INSERT INTO findings ...", {}, orig)
        return result

    monkeypatch.setattr(f"{module}.record_findings", failing)
    return calls


def _prepare(deployment: Deployment, tmp_path: Path) -> tuple[str, Path]:
    """Rules registered, an indicator stored; returns the data folder and a folder of logs."""
    rules = tmp_path / "rules"
    rules.mkdir()
    for name, text in (
        ("failed_logon.yml", FAILED_LOGON),
        ("brute_force.yml", BRUTE_FORCE.replace("condition: {gte: 3}", "condition: {gte: 2}")),
        ("distinct_users.yml", DISTINCT_USERS),
    ):
        (rules / name).write_text(text, encoding="utf-8")
    with deployment.store.session() as session:
        upsert_indicators(
            session,
            deployment.system(),
            [Indicator(IndicatorKind.IP, "10.0.0.9", "feed", confidence=80)],
        )
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "sec.jsonl").write_text(LOGONS, encoding="utf-8")
    data = str(deployment.settings.data)
    code, out = _vigil("rules", "add", str(rules), "--name", "local", "--data", data)
    assert code == 0, out
    return data, logs


def _vigil(*args: str) -> tuple[int, str]:
    result = runner.invoke(build_cli(), list(args), env=ENV)
    return result.exit_code, result.output


def _stored(deployment: Deployment) -> dict[str, tuple[str, str, int]]:
    """Every finding by fingerprint: rule, subject, count."""
    with deployment.store.reader() as session:
        return {
            r.fingerprint: (r.rule, r.subject, r.count) for r in session.scalars(select(FindingRow))
        }


def _marks(deployment: Deployment) -> int:
    with deployment.store.reader() as session:
        return len(session.scalars(select(MonitorScan)).all())


@pytest.fixture
def clean(tmp_path: Path) -> Iterator[tuple[Deployment, str, Path]]:
    """A second deployment of the same province, rules and logs, where nothing fails."""
    dep = _make_deployment(tmp_path / "clean", None, BEFORE)
    data, logs = _prepare(dep, tmp_path / "clean")
    yield dep, data, logs
    dep.close()


def test_vigil_detect_keeps_every_finding_when_the_store_fails_once(
    deployment: Deployment,
    clean: tuple[Deployment, str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data, logs = _prepare(deployment, tmp_path)
    clean_dep, clean_data, clean_logs = clean
    for folder, where in ((logs, data), (clean_logs, clean_data)):
        code, out = _vigil("monitor", "ingest", str(folder), "--no-rules", "--data", where)
        assert code == 0, out
    code, out = _vigil("detect", "--capability", "monitor", "--data", clean_data)
    assert code == 0, out
    expected = _stored(clean_dep)
    # Sigma (a rule and two correlations), the indicator and the silent sensor.
    assert sorted({rule for rule, _s, _c in expected.values()}) == [
        "11111111-1111-4111-8111-111111111111",
        "22222222-2222-4222-8222-222222222222",
        "33333333-3333-4333-8333-333333333333",
        "ioc:ip",
        "sensor-silent",
    ]

    calls = _fail_once(monkeypatch, "vigil.detection")
    code, out = _vigil("detect", "--capability", "monitor", "--data", data)
    assert code == EXIT_ERROR
    assert (
        "StoreError: storing 7 findings: the database refused (OperationalError: database is "
        "locked); nothing of this run was kept; run it again" in out
    )
    assert "Traceback" not in out
    assert (_stored(deployment), _marks(deployment)) == ({}, 0)  # nothing half kept

    code, out = _vigil("detect", "--capability", "monitor", "--data", data)
    assert code == 0, out
    assert calls == [0, 1]
    assert _stored(deployment) == expected
    assert _marks(deployment) == _marks(clean_dep) == 1


def _ingest_clean(clean: tuple[Deployment, str, Path]) -> dict[str, tuple[str, str, int]]:
    clean_dep, clean_data, clean_logs = clean
    code, out = _vigil("monitor", "ingest", str(clean_logs), "--data", clean_data)
    assert code == 0, out
    return _stored(clean_dep)


def test_a_one_shot_ingest_says_the_store_failed_and_the_next_stores_every_finding(
    deployment: Deployment,
    clean: tuple[Deployment, str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data, logs = _prepare(deployment, tmp_path)
    expected = _ingest_clean(clean)
    assert len(expected) == 3  # the rule and both correlations

    calls = _fail_once(monkeypatch, "vigil.monitor.detect.sigma.scan")
    code, out = _vigil("monitor", "ingest", str(logs), "--data", data)
    assert code == EXIT_ERROR
    assert (
        "error: rule set local: storing 3 findings of 1 batches: the database refused "
        "(OperationalError: database is locked); they are scanned again at the next run" in out
    )
    assert "Traceback" not in out
    assert (_stored(deployment), _marks(deployment)) == ({}, 0)
    assert deployment.lake.rows("monitor_events") == 3  # the events are in, unscanned

    code, out = _vigil("monitor", "ingest", str(logs), "--data", data)
    assert code == 0, out
    assert "1 files, 0 new events, 0 quarantined" in out
    assert "rule set local: 1 batches, 3 of 3 rules run, 6 matches, 3 new findings" in out
    assert calls == [0, 1]
    assert _stored(deployment) == expected
    assert _marks(deployment) == 1


def _more_logons(folder: Path, number: int) -> None:
    host = f"ws-{10 + number}"
    (folder / f"late-{number}.jsonl").write_text(LOGONS.replace("ws-07", host), encoding="utf-8")


def test_the_watcher_says_the_store_failed_and_stores_every_finding_at_the_next_poll(
    deployment: Deployment,
    clean: tuple[Deployment, str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data, logs = _prepare(deployment, tmp_path)
    for number in (1, 2):  # what the watcher will find, all at once for the clean run
        _more_logons(clean[2], number)
    expected = _ingest_clean(clean)
    assert len(expected) == 9

    dropped: list[float] = []

    def sleep(seconds: float) -> None:  # between polls, a new log arrives
        dropped.append(seconds)
        _more_logons(logs, len(dropped))

    monkeypatch.setattr("vigil.monitor.cli.monitor._pause", sleep)
    calls = _fail_once(monkeypatch, "vigil.monitor.detect.sigma.scan")
    code, out = _vigil(
        "monitor", "ingest", str(logs), "--watch", "--interval", "5", "--polls", "3", "--data", data
    )

    assert code == 0, out
    assert dropped == [5.0, 5.0]
    assert out.count("database is locked") == 1
    assert out.count("still watching: the next poll tries again") == 1
    # The second poll scans the new log and the batch the first could not record.
    assert "rule set local: 2 batches, 3 of 3 rules run, 14 matches, 6 new findings" in out
    assert "rule set local: 1 batches, 3 of 3 rules run, 15 matches, 3 new findings" in out
    assert calls == [0, 1, 2]  # one scan a poll, the first one failed
    assert _stored(deployment) == expected
    assert _marks(deployment) == 3
