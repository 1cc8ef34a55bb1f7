"""`vigil yara` and `vigil ioc` end to end on a test deployment; the indicator detector."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from tests.conftest import BEFORE
from tests.test_yara import BROKEN_RULES, MARKER_RULES, PLANTED, write
from vigil.cli import build_cli
from vigil.clikit import EXIT_FOUND
from vigil.core.indicators import Indicator, IndicatorKind
from vigil.deployment import Deployment
from vigil.monitor.detect.indicators.match import detect_indicators
from vigil.store.indicators import upsert_indicators
from vigil.store.models import AuditEntry, FindingRow

runner = CliRunner()

C2_LIST = """\
# Election phishing wave
bau-cu-gia.example
198.51.100.0/24;90
not a domain at all
"""


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    """The real `vigil` command, with `yara` and `ioc` mounted by the monitor plugin; English."""
    monkeypatch.setenv("VIGIL_LANG", "en")
    return build_cli()


def test_ioc_import_list_match(cli: typer.Typer, deployment: Deployment, tmp_path: Path) -> None:
    data = str(deployment.settings.data)
    feed = write(tmp_path / "c2-iocs.txt", C2_LIST)

    first = runner.invoke(cli, ["ioc", "import", str(feed), "--data", data, "--source", "cert-p01"])
    assert first.exit_code == 0, first.output
    assert "{'cidr': 1, 'domain': 1}" in first.output
    assert f"quarantined {feed}:4: not an IP address, block, domain or URL" in first.output
    assert "indicators: 2 new, 0 updated, 0 unchanged" in first.output

    again = runner.invoke(cli, ["ioc", "import", str(feed), "--data", data, "--source", "cert-p01"])
    assert "indicators: 0 new, 0 updated, 2 unchanged" in again.output

    listed = runner.invoke(cli, ["ioc", "list", "--data", data, "--json"])
    rows = [json.loads(line) for line in listed.output.splitlines()]
    assert [(r["kind"], r["value"], r["source"], r["confidence"]) for r in rows] == [
        ("cidr", "198.51.100.0/24", "cert-p01", 90),
        ("domain", "bau-cu-gia.example", "cert-p01", 80),
    ]
    assert rows[1]["description"] == "Election phishing wave"

    hit = runner.invoke(
        cli, ["ioc", "match", "https://login.Bau-Cu-Gia.example/x", "--data", data, "--json"]
    )
    assert hit.exit_code == EXIT_FOUND
    assert [json.loads(line)["value"] for line in hit.output.splitlines()] == ["bau-cu-gia.example"]
    miss = runner.invoke(cli, ["ioc", "match", "198.51.101.1", "--data", data])
    assert miss.exit_code == 0
    assert "0 matching indicators" in miss.output


def test_yara_scan_records_findings_once(
    cli: typer.Typer, deployment: Deployment, tmp_path: Path
) -> None:
    data = str(deployment.settings.data)
    rules = write(tmp_path / "rules" / "marker.yar", MARKER_RULES).parent
    files = tmp_path / "files"
    planted = write(files / "planted.bin", PLANTED)
    write(files / "clean.txt", "clean")
    args = [
        "yara",
        "scan",
        str(files),
        "--data",
        data,
        "--rules",
        str(rules),
        "--unit",
        "C01",
        "--host",
        "ws-09",
    ]

    first = runner.invoke(cli, args)
    assert first.exit_code == EXIT_FOUND, first.output
    assert "2 files" in first.output
    assert "1 rules, compiled" in first.output
    assert "findings: 1 new, 0 updated, 0 unchanged" in first.output

    second = runner.invoke(cli, args)
    assert "1 rules, loaded from cache" in second.output
    assert "findings: 0 new, 0 updated, 1 unchanged" in second.output

    with deployment.store.reader() as session:
        (row,) = session.scalars(select(FindingRow)).all()
        assert (row.rule, row.subject, row.unit, row.count) == (
            "yara:marker:Vigil_Test_Marker",
            f"ws-09:{planted}",
            "C01",
            1,
        )
        actions = session.scalars(select(AuditEntry.action)).all()
    assert actions == ["yara.scan", "yara.scan"]
    assert list((deployment.settings.data / "cache" / "yara").glob("*.yarc"))

    bad_unit = runner.invoke(cli, [*args[:-4], "--unit", "X99"])
    assert bad_unit.exit_code == 1
    assert "unknown unit 'X99'" in bad_unit.output


def test_yara_scan_matches_file_hashes_against_indicators(
    cli: typer.Typer, deployment: Deployment, tmp_path: Path
) -> None:
    data = str(deployment.settings.data)
    rules = write(tmp_path / "rules" / "marker.yar", MARKER_RULES).parent
    dropper = write(tmp_path / "files" / "tool.bin", b"not a yara hit, but a known bad file\n")
    md5 = hashlib.md5(dropper.read_bytes()).hexdigest()  # noqa: S324 - the indicator's own kind
    with deployment.store.session() as session:
        upsert_indicators(
            session,
            deployment.system(),
            [Indicator(IndicatorKind.MD5, md5, "misp-p01", confidence=95, description="dropper")],
        )

    result = runner.invoke(
        cli, ["yara", "scan", str(dropper), "--data", data, "--rules", str(rules), "--json"]
    )
    assert result.exit_code == EXIT_FOUND, result.output
    (finding,) = [json.loads(line) for line in result.output.splitlines()]
    assert (finding["rule"], finding["severity"], finding["subject"]) == (
        "ioc:md5",
        "critical",
        str(dropper),
    )
    assert finding["evidence"]["matched"] == md5
    assert finding["evidence"]["file"]["sha256"] == hashlib.sha256(dropper.read_bytes()).hexdigest()

    no_iocs = runner.invoke(
        cli, ["yara", "scan", str(dropper), "--data", data, "--rules", str(rules), "--no-iocs"]
    )
    assert no_iocs.exit_code == 0


def test_yara_check_reports_broken_files(cli: typer.Typer, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    write(rules / "good.yar", MARKER_RULES)
    broken = write(rules / "broken.yar", BROKEN_RULES)

    result = runner.invoke(cli, ["yara", "check", str(rules)])
    assert result.exit_code == EXIT_FOUND
    assert f"skipped {broken}:5: E025 unknown pattern `$missing`" in result.output
    assert "2 files, 1 rules compiled, 1 files skipped" in result.output

    as_json = runner.invoke(cli, ["yara", "check", str(rules), "--json"])
    (error,) = json.loads(as_json.output)["errors"]
    # The names it always had, and the shape every input problem has.
    assert {k: error[k] for k in ("path", "line", "column", "code")} == {
        "path": str(broken),
        "line": 5,
        "column": 16,
        "code": "E025",
    }
    assert error["reason"] == error["message"] and error["reason"].startswith("unknown pattern")
    assert (error["source"], error["severity"], error["raw"]) == (
        str(broken),
        "error",
        "        $a and $missing",
    )

    good = runner.invoke(cli, ["yara", "check", str(rules / "good.yar"), "--json"])
    assert good.exit_code == 0
    assert json.loads(good.output) == {"files": 1, "rules": 1, "warnings": 0, "errors": []}


def test_detect_indicators_reads_monitor_events(deployment: Deployment) -> None:
    with deployment.store.session() as session:
        upsert_indicators(
            session,
            deployment.system(),
            [
                Indicator(IndicatorKind.DOMAIN, "evil.example", "feed", confidence=80),
                Indicator(IndicatorKind.IP, "192.0.2.66", "feed", confidence=60),
            ],
        )
    table = pa.table(
        {
            "event_id": ["a1", "a2", "a3"],
            "ts": pa.array([BEFORE, BEFORE + timedelta(minutes=1), BEFORE], pa.timestamp("us")),
            "host": ["ws-01", "ws-02", "ws-03"],
            "unit": ["C01", "C02", "D01"],
            "source": ["evtx"] * 3,
            "channel": ["Microsoft-Windows-Sysmon/Operational"] * 3,
            "event_code": pa.array([22, 3, 1], pa.int32()),
            "message": [None, None, None],
            "QueryName": ["www.evil.example", None, "fine.example"],
            "DestinationIp": [None, "192.0.2.66", None],
        }
    )
    deployment.lake.write("monitor_events", table, "batch-1")

    findings = detect_indicators(deployment)

    assert sorted((f.rule, f.subject, f.unit, f.occurrences) for f in findings) == [
        ("ioc:domain", "ws-01", "C01", ("a1",)),
        ("ioc:ip", "ws-02", "C02", ("a2",)),
    ]


def test_vigil_detect_runs_the_indicator_detector(deployment: Deployment) -> None:
    from vigil.detection import run_detectors

    with deployment.store.session() as session:
        upsert_indicators(
            session, deployment.system(), [Indicator(IndicatorKind.DOMAIN, "evil.example", "feed")]
        )
    table = pa.table(
        {
            "event_id": ["d1"],
            "ts": pa.array([BEFORE], pa.timestamp("us")),
            "host": ["ws-01"],
            "unit": ["C01"],
            "source": ["evtx"],
            "channel": ["Microsoft-Windows-Sysmon/Operational"],
            "event_code": pa.array([22], pa.int32()),
            "message": pa.array([None], pa.string()),
            "QueryName": ["cdn.evil.example"],
        }
    )
    deployment.lake.write("monitor_events", table, "batch-1")

    (run,) = run_detectors(deployment, {"monitor"})
    assert run.error is None
    with deployment.store.reader() as session:
        rows = session.scalars(select(FindingRow).where(FindingRow.rule.like("ioc:%"))).all()
        assert [(r.rule, r.subject, r.unit, r.count) for r in rows] == [
            ("ioc:domain", "ws-01", "C01", 1)
        ]

    (again,) = run_detectors(deployment, {"monitor"})
    assert again.error is None
    with deployment.store.reader() as session:
        (row,) = session.scalars(select(FindingRow).where(FindingRow.rule.like("ioc:%"))).all()
        assert row.count == 1


def test_every_yara_and_ioc_message_has_a_vietnamese_translation() -> None:
    from vigil.core.i18n import _
    from vigil.monitor.cli import ioc, yara

    MESSAGES = yara.MESSAGES + ioc.MESSAGES

    untranslated = [m for m in MESSAGES if _(m, "vi") == m and not m.startswith("{path} (")]
    assert untranslated == []
    for message in MESSAGES:
        assert sorted(re.findall(r"\{(\w+)\}", _(message, "vi"))) == sorted(
            re.findall(r"\{(\w+)\}", message)
        )
    assert _("{count} matching indicators", "vi").format(count=2) == "2 dấu hiệu khớp"
