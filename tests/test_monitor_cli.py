"""`vigil monitor` and `vigil rules` from the command line, in English and Vietnamese."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.test_monitor_scan import BRUTE_FORCE, FAILED_LOGON, UNMAPPED
from vigil.cli import build_cli
from vigil.clikit import EXIT_FOUND
from vigil.deployment import Deployment

pytestmark = pytest.mark.filterwarnings("ignore:Arrow output on a DB-API result")
runner = CliRunner()
EN = {"VIGIL_LANG": "en", "COLUMNS": "200"}
LOGONS = "".join(
    json.dumps(
        {
            "@timestamp": f"2026-01-31T23:00:{s:02d}Z",
            "Hostname": "ws-07",
            "EventID": 4625,
            "Channel": "Security",
            "IpAddress": "10.0.0.9",
            "TargetUserName": u,
            "EventRecordID": s,
        }
    )
    + "\n"
    for s, u in ((0, "admin"), (10, "root"), (20, "guest"))
)


@pytest.fixture
def data(deployment: Deployment, tmp_path: Path) -> str:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "failed_logon.yml").write_text(FAILED_LOGON)
    (rules / "brute_force.yml").write_text(
        BRUTE_FORCE.replace("type: event_count", "type: event_count\n    generate: true")
    )
    (rules / "unmapped.yml").write_text(UNMAPPED)
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "sec.jsonl").write_text(LOGONS)
    return str(deployment.settings.data)


def vigil(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = runner.invoke(build_cli(), list(args), env=env or EN)
    return result.exit_code, result.output


def test_rules_add_ingest_and_look(data: str, tmp_path: Path) -> None:
    code, out = vigil("rules", "add", str(tmp_path / "rules"), "--name", "local", "--data", data)
    assert code == 0, out
    assert "unmapped.yml: log source not mapped: product=windows, category=file_access" in out
    assert "rule set local: 3 rules, 2 converted, 1 failed (3 added, 0 updated, 0 removed)" in out

    code, out = vigil("monitor", "ingest", str(tmp_path / "logs"), "--unit", "C01", "--data", data)
    assert code == 0, out
    assert "1 files, 3 new events, 0 quarantined" in out
    # Three failed logons, and one window of three for the correlation: two findings.
    assert "rule set local: 1 batches, 2 of 2 rules run, 4 matches, 2 new findings" in out

    code, out = vigil("findings", "list", "--json", "--data", data)
    rows = [json.loads(line) for line in out.splitlines()]
    assert sorted((r["rule"], r["count"], r["unit"]) for r in rows) == [
        ("11111111-1111-4111-8111-111111111111", 3, "C01"),
        ("22222222-2222-4222-8222-222222222222", 3, "C01"),
    ]

    code, out = vigil(
        "monitor", "events", "--field", "TargetUserName=ROOT", "--json", "--data", data
    )
    (event,) = [json.loads(line) for line in out.splitlines()]
    assert (event["host"], event["TargetUserName"], event["unit"]) == ("ws-07", "root", "C01")
    code, out = vigil(
        "monitor",
        "events",
        "--field",
        "TargetUserName~o",
        "--host",
        "ws-07",
        "--since",
        "2026-01-31T23:00:05",
        "--json",
        "--data",
        data,
    )
    assert [json.loads(line)["TargetUserName"] for line in out.splitlines()] == ["root"]

    code, out = vigil("monitor", "sensors", "--json", "--data", data)
    assert [json.loads(line) for line in out.splitlines()] == [
        {
            "host": "ws-07",
            "source": "jsonl",
            "unit": "C01",
            "events": 3,
            "first": "2026-01-31T23:00:00",
            "last": "2026-01-31T23:00:20",
            "collected": False,
        }
    ]

    code, out = vigil("monitor", "coverage", "--json", "--data", data)
    coverage = {r["tactic"]: r for r in map(json.loads, out.splitlines())}
    assert coverage["credential-access"] == {
        "tactic": "credential-access",
        "rules": 1,
        "enabled": 1,
        "techniques": 1,
        "fired": 1,
    }

    code, out = vigil("rules", "list", "--failed", "--json", "--data", data)
    assert [json.loads(line)["id"] for line in out.splitlines()] == [
        "44444444-4444-4444-8444-444444444444"
    ]

    code, out = vigil("monitor", "detections", "--markdown", "--data", data)
    assert (
        "| `11111111-1111-4111-8111-111111111111` | Failed logon from the election LAN "
        "| medium | 1 | 3 |" in out
    )
    assert "2 rules fired on 6 events in total." in out

    code, out = vigil("monitor", "ingest", str(tmp_path / "logs"), "--data", data)
    assert "1 files, 0 new events, 0 quarantined" in out and "rule set" not in out


def test_rules_check_exit_code_and_lines(data: str, tmp_path: Path) -> None:
    code, out = vigil("rules", "check", str(tmp_path / "rules"), "--data", data)
    assert code == EXIT_FOUND
    assert f"{tmp_path / 'rules' / 'unmapped.yml'}:5: error: cannot convert" in out
    good = tmp_path / "good"
    good.mkdir()
    (good / "failed_logon.yml").write_text(FAILED_LOGON)
    code, out = vigil("rules", "check", str(good), "--data", data)
    assert (code, out.strip()) == (0, "0 issues, 0 errors")


def test_unknown_hosts_and_placing_them(data: str, tmp_path: Path) -> None:
    vigil("monitor", "ingest", str(tmp_path / "logs"), "--no-rules", "--data", data)
    code, out = vigil("monitor", "hosts", "--unknown", "--data", data)
    assert code == EXIT_FOUND and "ws-07" in out and "P01" in out
    code, out = vigil("monitor", "place", "ws-07", "C02", "--data", data)
    assert (code, out.strip()) == (0, "ws-07 is now in C02")
    code, out = vigil("monitor", "hosts", "--unknown", "--data", data)
    assert code == 0 and "ws-07" not in out
    code, out = vigil("monitor", "place", "ws-07", "NOPE", "--data", data)
    assert code == 1 and "unknown unit 'NOPE'" in out


def test_vietnamese_output(data: str, tmp_path: Path) -> None:
    code, out = vigil(
        "monitor",
        "ingest",
        str(tmp_path / "logs"),
        "--no-rules",
        "--data",
        data,
        env={"VIGIL_LANG": "vi", "COLUMNS": "200"},
    )
    assert code == 0
    assert "1 tệp, 3 sự kiện mới, 0 bản ghi bị cách ly" in out
    assert "đã nạp" in out


def test_watch_picks_up_new_files(
    data: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "logs"
    dropped: list[float] = []

    def sleep(seconds: float) -> None:
        dropped.append(seconds)
        (folder / f"late{len(dropped)}.log").write_text(
            f"<13>1 2026-02-01T00:0{len(dropped)}:00Z web01 app - - - hello\n"
        )

    monkeypatch.setattr("vigil.monitor.cli.monitor._pause", sleep)
    code, out = vigil(
        "monitor",
        "ingest",
        str(folder),
        "--watch",
        "--interval",
        "5",
        "--polls",
        "3",
        "--no-rules",
        "--data",
        data,
    )
    assert code == 0, out
    assert dropped == [5.0, 5.0]
    assert out.count("1 new events") == 2 and out.count("3 new events") == 1


def test_rules_disable_and_enable(data: str, tmp_path: Path) -> None:
    rule = "11111111-1111-4111-8111-111111111111"
    assert vigil("rules", "add", str(tmp_path / "rules"), "--name", "local", "--data", data)[0] == 0

    def enabled() -> bool:
        _, out = vigil("rules", "list", "--json", "--data", data)
        return bool({r["id"]: r["enabled"] for r in map(json.loads, out.splitlines())}[rule])

    code, out = vigil("rules", "disable", rule, "--data", data)
    assert (code, f"rule {rule} disabled" in out, enabled()) == (0, True, False)
    code, out = vigil("rules", "enable", rule, "--data", data)
    assert (code, f"rule {rule} enabled" in out, enabled()) == (0, True, True)


def test_a_folder_listed_again_shows_only_files_that_need_a_look(data: str, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(21):
        (folder / f"sec-{n:02d}.jsonl").write_text(LOGONS.replace("ws-07", f"ws-{n:02d}"))
    (folder / "notes.txt").write_text("not a log\n")
    code, first = vigil("monitor", "ingest", str(folder), "--no-rules", "--data", data)
    assert code == 0, first
    assert "sec-00" not in first and first.count("unknown format") == 1
    assert "22 files, 63 new events, 1 quarantined" in first
    code, again = vigil("monitor", "ingest", str(folder), "--no-rules", "--data", data)
    assert "already in the lake" not in again and again.count("unknown format") == 1
    assert "22 files, 0 new events, 1 quarantined" in again
