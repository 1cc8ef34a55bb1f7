"""Rule sets in the store; scanning new events into Findings: exact rows, counts, idempotence."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import BEFORE, shared_data
from vigil.core.access import Actor
from vigil.core.problems import ProblemSeverity
from vigil.core.severity import Severity
from vigil.deployment import Deployment
from vigil.monitor.detect.sensors import SILENT_RULE, silence_findings
from vigil.monitor.detect.sigma import scan as scan_module
from vigil.monitor.detect.sigma.rules import check_rules, problem_level
from vigil.monitor.detect.sigma.ruleset import add_rule_set, forget_scans, set_rule_enabled
from vigil.monitor.detect.sigma.runner import CompiledRule
from vigil.monitor.detect.sigma.scan import correlation_reach, ingest_and_scan, scan_all
from vigil.monitor.ingest import pipeline as ingest_module
from vigil.monitor.ingest.pipeline import ingest_files
from vigil.monitor.models import MonitorRule, MonitorScan
from vigil.monitor.plugin import vigil_detect
from vigil.store.findings import finding_dict, list_findings
from vigil.store.models import AuditEntry

pytestmark = pytest.mark.filterwarnings("ignore:Arrow output on a DB-API result")

FAILED_LOGON = """\
title: Failed logon from the election LAN
id: 11111111-1111-4111-8111-111111111111
name: failed_logon_lan
status: test
level: medium
tags: [attack.credential-access, attack.t1110]
logsource: {product: windows, service: security}
detection:
    selection:
        EventID: 4625
        IpAddress|startswith: '10.0.0.'
    condition: selection
"""
BRUTE_FORCE = """\
title: Many failed logons from one address
id: 22222222-2222-4222-8222-222222222222
status: test
level: high
correlation:
    type: event_count
    generate: true
    rules: [failed_logon_lan]
    group-by: [IpAddress]
    timespan: 5m
    condition: {gte: 3}
"""
DISTINCT_USERS = """\
title: One address tries many accounts
id: 33333333-3333-4333-8333-333333333333
status: test
level: high
correlation:
    type: value_count
    generate: true
    rules: [failed_logon_lan]
    group-by: [IpAddress]
    timespan: 10m
    condition: {field: TargetUserName, gte: 3}
"""
UNMAPPED = """\
title: Needs file access auditing
id: 44444444-4444-4444-8444-444444444444
status: test
level: low
logsource: {product: windows, category: file_access}
detection:
    selection: {FileName|endswith: '.lnk'}
    condition: selection
"""


def _rules(folder: Path, **extra: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    texts = {
        "failed_logon.yml": FAILED_LOGON,
        "brute_force.yml": BRUTE_FORCE,
        "distinct_users.yml": DISTINCT_USERS,
        "unmapped.yml": UNMAPPED,
        **extra,
    }
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


#: Failed logons (seconds after the start, address, account): five from the election LAN,
#: four of them from one address within five minutes, four accounts tried from it.
LOGONS = [
    (0, "10.0.0.9", "admin"),
    (30, "10.0.0.9", "root"),
    (60, "10.0.0.9", "bqt"),
    (90, "10.0.0.9", "admin"),
    (120, "10.0.0.8", "admin"),
    (140, "192.168.1.5", "admin"),
]


def _logons(path: Path, start: datetime, logons: list[tuple[int, str, str]]) -> Path:
    """Security-Datasets style lines: (seconds after start, address, account)."""
    lines = [
        json.dumps(
            {
                "@timestamp": (start + timedelta(seconds=s)).isoformat() + "Z",
                "Hostname": "ws-07",
                "EventID": 4625,
                "Channel": "Security",
                "IpAddress": ip,
                "TargetUserName": user,
                "EventRecordID": i,
            }
        )
        for i, (s, ip, user) in enumerate(logons)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _findings(deployment: Deployment) -> dict[str, dict[str, object]]:
    with deployment.store.reader() as session:
        return {r.rule: finding_dict(r) for r in list_findings(session, capability="monitor")}


def test_rule_set_is_stored_with_sql_or_the_reason(deployment: Deployment, tmp_path: Path) -> None:
    folder = _rules(tmp_path / "rules")
    with deployment.store.session() as session:
        result = add_rule_set(session, deployment.system(), folder, "local")
    assert (result.rules, result.converted, result.added) == (4, 3, 4)
    assert [f.id for f in result.failures] == ["44444444-4444-4444-8444-444444444444"]
    with deployment.store.reader() as session:
        rows = {r.id: r for r in session.scalars(select(MonitorRule))}
        actions = list(session.scalars(select(AuditEntry.action)))
    lan = rows["11111111-1111-4111-8111-111111111111"]
    assert (lan.kind, lan.level, lan.group_key, lan.enabled) == (
        "rule",
        "medium",
        "windows/service/security",
        True,
    )
    assert lan.tags == ["attack.credential-access", "attack.t1110"]
    assert lan.logsource == {"product": "windows", "service": "security"}
    assert lan.sql == (
        '"channel#lower" = \'security\' AND "event_code" = 4625 AND '
        "starts_with(\"IpAddress#lower\", '10.0.0.')"
    )
    assert rows["22222222-2222-4222-8222-222222222222"].kind == "correlation"
    assert rows["44444444-4444-4444-8444-444444444444"].error == (
        "log source not mapped: product=windows, category=file_access"
    )
    assert "monitor.rules.add" in actions


def test_adding_again_updates_removes_and_keeps_switches(
    deployment: Deployment, tmp_path: Path
) -> None:
    folder = _rules(tmp_path / "rules")
    actor = deployment.system()
    with deployment.store.session() as session:
        add_rule_set(session, actor, folder, "local")
        set_rule_enabled(session, actor, "11111111-1111-4111-8111-111111111111", False)
    (folder / "unmapped.yml").unlink()
    (folder / "brute_force.yml").write_text(BRUTE_FORCE.replace("gte: 3", "gte: 4"))
    with deployment.store.session() as session:
        result = add_rule_set(session, actor, folder, "local")
    assert (result.rules, result.added, result.updated, result.removed) == (3, 0, 1, 1)
    with deployment.store.reader() as session:
        lan = session.get(MonitorRule, "11111111-1111-4111-8111-111111111111")
        assert lan is not None and lan.enabled is False


def test_check_names_file_and_line(tmp_path: Path) -> None:
    escaped = FAILED_LOGON.replace(
        "11111111-1111-4111-8111-111111111111", "55555555-5555-4555-8555-555555555555"
    ).replace(
        "        IpAddress|startswith: '10.0.0.'", "        TargetUserName|contains: 'adm\\*in'"
    )
    folder = _rules(
        tmp_path / "rules",
        **{"broken.yml": "title: x\ndetection:\n  - : [\n", "escaped.yml": escaped},
    )
    issues = {
        (Path(i.location.source).name, i.location.line, problem_level(i), i.message.split(":")[0])
        for i in check_rules(folder)
    }
    assert ("broken.yml", 3, "error", "YAML") in issues
    assert ("unmapped.yml", 5, "error", "cannot convert") in issues
    assert ("escaped.yml", 11, "low", "EscapedWildcardIssue") in issues
    # One shape for every input problem: pySigma's level is kept as the code.
    escaped = next(i for i in check_rules(folder) if i.message.startswith("EscapedWildcard"))
    assert (escaped.severity, escaped.code, escaped.location.record) == (
        ProblemSeverity.INFO,
        "low",
        "55555555-5555-4555-8555-555555555555",
    )
    unmapped = next(i for i in check_rules(folder) if i.location.source.endswith("unmapped.yml"))
    assert (unmapped.is_error, unmapped.code) == (True, "convert")


def test_scan_turns_matches_into_findings_once(any_deployment: Deployment, tmp_path: Path) -> None:
    """On SQLite and PostgreSQL: the rules are read back from either (JSON columns differ)."""
    deployment = any_deployment
    actor = deployment.system()
    with deployment.store.session() as session:
        add_rule_set(session, actor, _rules(tmp_path / "rules"), "local")
    start = datetime(2026, 1, 31, 23, 0, 0)  # 06:00 on 1 Feb in the province
    log = _logons(tmp_path / "sec.jsonl", start, LOGONS)
    result = ingest_files(deployment, actor, [log], unit="C01", workers=1)
    reports, _ = scan_all(deployment, actor, tables=result.tables)
    (report,) = reports
    assert (report.batches, report.stats.errors) == (1, {})
    found = _findings(deployment)
    lan = found["11111111-1111-4111-8111-111111111111"]
    assert (lan["count"], lan["severity"], lan["unit"], lan["subject"]) == (
        5,
        "medium",
        "C01",
        "ws-07",
    )
    assert lan["title_vi"] == "Phát hiện Sigma: Failed logon from the election LAN"
    assert lan["first_seen"] == start.isoformat()
    assert lan["last_seen"] == (start + timedelta(seconds=120)).isoformat()
    evidence = lan["evidence"]
    assert isinstance(evidence, dict)
    assert evidence["attack"] == {"tactics": ["credential-access"], "techniques": ["T1110"]}
    assert [e["IpAddress"] for e in evidence["events"]] == ["10.0.0.9"] * 4 + ["10.0.0.8"]
    assert evidence["logsource"] == {"product": "windows", "service": "security"}
    # Four failures from 10.0.0.9 within 5 minutes; 10.0.0.8 alone does not count.
    brute = found["22222222-2222-4222-8222-222222222222"]
    assert (brute["count"], brute["severity"]) == (4, "high")
    users = found["33333333-3333-4333-8333-333333333333"]
    assert users["count"] == 4
    # Nothing new: a second scan finds no batch to scan; forgetting the marks changes no count.
    again, _ = scan_all(deployment, actor)
    assert again[0].batches == 0
    with deployment.store.session() as session:
        assert forget_scans(session, actor, "local") == 1
    rescanned, _ = scan_all(deployment, actor)
    assert rescanned[0].batches == 1 and rescanned[0].recorded.created == 0
    assert rescanned[0].recorded.updated == 0
    assert {k: v["count"] for k, v in _findings(deployment).items()} == {
        k: v["count"] for k, v in found.items()
    }
    with deployment.store.reader() as session:
        marks = session.scalars(select(MonitorScan.matches)).all()
    assert marks == [5]


def test_one_finding_per_rule_host_and_day(deployment: Deployment, tmp_path: Path) -> None:
    actor = deployment.system()
    with deployment.store.session() as session:
        add_rule_set(session, actor, _rules(tmp_path / "rules"), "local")
    day1 = datetime(2026, 1, 31, 16, 30)  # 23:30 local on 31 Jan
    log = _logons(tmp_path / "a.jsonl", day1, [(0, "10.0.0.9", "a"), (3600, "10.0.0.9", "b")])
    ingest_files(deployment, actor, [log], workers=1)
    scan_all(deployment, actor)
    with deployment.store.reader() as session:
        rows = [
            r
            for r in list_findings(session, capability="monitor")
            if r.rule == "11111111-1111-4111-8111-111111111111"
        ]
    assert sorted(r.count for r in rows) == [1, 1]  # 23:30 on the 31st and 00:30 on the 1st


def test_regression_sample_end_to_end(deployment: Deployment, tmp_path: Path) -> None:
    rule = next(
        shared_data("sigma", "rules-emerging-threats").rglob(
            "proc_creation_win_exploit_cve_2026_33829.yml"
        )
    )
    evtx = next(
        shared_data("sigma", "regression_data").rglob("7c3a5b1d-9e2f-4a8c-b5d7-1e0f3c6a9b2d.evtx")
    )
    folder = tmp_path / "cve"
    folder.mkdir()
    (folder / rule.name).write_bytes(rule.read_bytes())
    actor = deployment.system()
    with deployment.store.session() as session:
        add_rule_set(session, actor, folder, "cve")
    ingest_files(deployment, actor, [evtx], unit="C02", workers=1)
    scan_all(deployment, actor)
    (finding,) = _findings(deployment).values()
    assert finding["rule"] == "7c3a5b1d-9e2f-4a8c-b5d7-1e0f3c6a9b2d"
    assert (finding["subject"], finding["unit"], finding["count"]) == ("swachchhanda", "C02", 2)
    assert finding["severity"] == Severity.HIGH.label
    events = finding["evidence"]["events"]  # type: ignore[index]
    assert events[0]["Image"].endswith("SnippingTool.exe")
    assert events[0]["CommandLine"].startswith('"C:\\Program Files\\WindowsApps')


def test_silent_sensors_and_the_detect_hook(deployment: Deployment, tmp_path: Path) -> None:
    actor = deployment.system()
    log = tmp_path / "auth.log"
    log.write_text(
        "<38>1 2026-02-01T01:00:00Z web01 sshd 1 - - hello\n"
        "<38>1 2026-02-01T02:30:00Z db01 sshd 1 - - hello\n"
    )
    ingest_files(deployment, actor, [log], unit="C01", workers=1)
    # At 03:00 web01 has been silent 120 minutes (over the 60 allowed), db01 only 30.
    (finding,) = silence_findings(deployment)
    assert (finding.rule, finding.subject, finding.unit) == (SILENT_RULE, "web01", "C01")
    assert finding.severity == Severity.MEDIUM
    assert finding.evidence["silent_minutes"] == 120
    assert finding.title == "Sensor silent: web01 (syslog) sent no event for 120 minutes"
    later = deployment.now() + timedelta(minutes=31)
    assert {f.subject for f in silence_findings(deployment, later)} == {"web01", "db01"}
    assert [f.rule for f in vigil_detect(deployment).findings] == [SILENT_RULE]
    assert deployment.now() == BEFORE


SUCCESS_LOGON = """\
title: Logon from the election LAN
id: 66666666-6666-4666-8666-666666666666
name: logon_lan
status: test
level: informational
logsource: {product: windows, service: security}
detection:
    selection:
        EventID: 4624
        IpAddress|startswith: '10.0.0.'
    condition: selection
"""
GUESSED = """\
title: Failed then successful logon from one address
id: 77777777-7777-4777-8777-777777777777
status: test
level: critical
correlation:
    type: temporal
    rules: [failed_logon_lan, logon_lan]
    group-by: [IpAddress]
    timespan: 10m
"""


def test_temporal_correlation_needs_both_rules_in_the_window(
    deployment: Deployment, tmp_path: Path
) -> None:
    actor = deployment.system()
    folder = _rules(tmp_path / "rules", **{"ok.yml": SUCCESS_LOGON, "guessed.yml": GUESSED})
    with deployment.store.session() as session:
        add_rule_set(session, actor, folder, "local")
    start = datetime(2026, 1, 31, 23, 0, 0)
    lines = [
        {"s": 0, "ip": "10.0.0.9", "id": 4625},
        {"s": 60, "ip": "10.0.0.9", "id": 4624},
        {"s": 0, "ip": "10.0.0.7", "id": 4625},
        {"s": 1200, "ip": "10.0.0.7", "id": 4624},
    ]
    log = tmp_path / "sec.jsonl"
    log.write_text(
        "".join(
            json.dumps(
                {
                    "@timestamp": (start + timedelta(seconds=e["s"])).isoformat() + "Z",
                    "Hostname": "ws-07",
                    "EventID": e["id"],
                    "Channel": "Security",
                    "IpAddress": e["ip"],
                    "TargetUserName": "admin",
                    "EventRecordID": i,
                }
            )
            + "\n"
            for i, e in enumerate(lines)
        )
    )
    ingest_files(deployment, actor, [log], workers=1)
    scan_all(deployment, actor)
    found = _findings(deployment)
    # 10.0.0.9 failed then logged on within a minute; 10.0.0.7's logon came 20 minutes later.
    guessed = found["77777777-7777-4777-8777-777777777777"]
    assert (guessed["count"], guessed["severity"]) == (2, "critical")
    assert [e["IpAddress"] for e in guessed["evidence"]["events"]] == ["10.0.0.9"]  # type: ignore[index]


def test_rules_run_batch_by_batch_while_the_ingest_goes_on(
    deployment: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each file its own batch: each is scanned as it is written, the last while it is written;
    the findings, correlations across batches included, are those of one scan at the end."""
    actor = deployment.system()
    with deployment.store.session() as session:
        add_rule_set(session, actor, _rules(tmp_path / "rules"), "local")
    monkeypatch.setattr(ingest_module, "BATCH_BYTES", 1)
    start = datetime(2026, 1, 31, 23, 0, 0)
    logs = tmp_path / "logs"
    logs.mkdir()
    lines = _logons(tmp_path / "all.jsonl", start, LOGONS).read_text().splitlines(keepends=True)
    for n in range(3):  # the same events (record ids 0 to 5) in three files
        (logs / f"sec-{n}.jsonl").write_text("".join(lines[2 * n : 2 * n + 2]))
    written: list[str] = []
    write = deployment.lake.write

    def noting_write(dataset: str, table: object, batch: str) -> None:
        write(dataset, table, batch)  # type: ignore[arg-type]
        written.append(batch)

    monkeypatch.setattr(deployment.lake, "write", noting_write)
    result, reports = ingest_and_scan(deployment, actor, [logs], unit="C01", workers=1)
    (report,) = reports
    assert len(result.batches) == 3 and written == result.batches
    assert (report.batches, report.stats.errors) == (3, {})
    found = _findings(deployment)
    assert found["11111111-1111-4111-8111-111111111111"]["count"] == 5
    assert found["22222222-2222-4222-8222-222222222222"]["count"] == 4
    assert found["33333333-3333-4333-8333-333333333333"]["count"] == 4
    with deployment.store.reader() as session:
        marked = set(session.scalars(select(MonitorScan.batch)))
    assert marked == set(result.batches)


def test_rules_load_while_the_files_are_parsed_and_a_failed_warm_up_is_left_to_the_scan(
    deployment: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ingest_and_scan` loads the rule plans while the workers parse (`while_parsing`, once);
    if that fails, the scan loads them itself and the ingest is not lost."""
    monkeypatch.setattr(ingest_module, "PARALLEL_MIN_BYTES", 0)  # workers for small files
    actor = deployment.system()
    with deployment.store.session() as session:
        add_rule_set(session, actor, _rules(tmp_path / "rules"), "local")
    logs = tmp_path / "logs"
    logs.mkdir()
    _logons(logs / "sec.jsonl", datetime(2026, 1, 31, 23, 0, 0), LOGONS)
    calls: list[str] = []
    warm_up = scan_module.warm_up

    def failing_warm_up(dep: Deployment) -> None:
        calls.append("warm")
        warm_up(dep)
        scan_module._PLANS.clear()
        raise RuntimeError("rules store unavailable")

    monkeypatch.setattr(scan_module, "warm_up", failing_warm_up)
    result, (report,) = ingest_and_scan(deployment, actor, [logs], unit="C01", workers=2)
    assert calls == ["warm"]
    assert result.events == len(LOGONS) and report.stats.errors == {}
    assert _findings(deployment)["11111111-1111-4111-8111-111111111111"]["count"] == 5
    # Without the failure the plans are in the process's cache when the scan starts.
    monkeypatch.setattr(scan_module, "warm_up", warm_up)
    scan_module._PLANS.clear()
    seen: list[int] = []

    def noting(dep: Deployment) -> None:
        warm_up(dep)
        seen.append(len(scan_module._PLANS))

    monkeypatch.setattr(scan_module, "warm_up", noting)
    other = tmp_path / "more"
    other.mkdir()
    _logons(other / "sec.jsonl", datetime(2026, 2, 3, 23, 0, 0), LOGONS)
    ingest_and_scan(deployment, actor, [other], unit="C01", workers=2)
    assert seen == [1]
    # Without workers the rules are loaded by the scan, after the parse.
    third = tmp_path / "third"
    third.mkdir()
    _logons(third / "sec.jsonl", datetime(2026, 2, 5, 23, 0, 0), LOGONS)
    ingest_and_scan(deployment, actor, [third], unit="C01", workers=1)
    assert seen == [1]


SLOW_SPRAY = """\
title: Failed logons from one address over three days
id: 55555555-5555-4555-8555-555555555555
status: test
level: medium
correlation:
    type: event_count
    generate: true
    rules: [failed_logon_lan]
    group-by: [IpAddress]
    timespan: {span}
    condition: {{gte: 3}}
"""


def _with_slow_spray(deployment: Deployment, tmp_path: Path, span: str) -> Actor:
    """The test rules and SLOW_SPRAY with this window registered; the actor that did it."""
    actor = deployment.system()
    slow = SLOW_SPRAY.format(span=span)
    with deployment.store.session() as session:
        add_rule_set(session, actor, _rules(tmp_path / "rules", **{"slow.yml": slow}), "local")
    return actor


def test_a_correlation_reaches_as_far_back_as_its_window(
    deployment: Deployment, tmp_path: Path
) -> None:
    """Three failed logons from one address, a day and a half apart, each ingested on its own:
    a three-day window sees all three, though the first batch is older than two days."""
    actor = _with_slow_spray(deployment, tmp_path, "3d")
    start = datetime(2026, 2, 1, 8, 0, 0)
    for n, hours in enumerate((0, 36, 70)):
        logs = tmp_path / f"day-{n}"
        logs.mkdir()
        _logons(logs / "sec.jsonl", start + timedelta(hours=hours), [(n, "10.0.0.9", "admin")])
        ingest_and_scan(deployment, actor, [logs], unit="C01", workers=1)
        found = _findings(deployment)
        assert ("55555555-5555-4555-8555-555555555555" in found) == (n == 2)
    slow = found["55555555-5555-4555-8555-555555555555"]
    assert slow["count"] == 3


def test_a_window_longer_than_the_reach_is_cut_and_said(
    deployment: Deployment, tmp_path: Path
) -> None:
    actor = _with_slow_spray(deployment, tmp_path, "40d")
    logs = tmp_path / "logs"
    logs.mkdir()
    _logons(logs / "sec.jsonl", datetime(2026, 2, 1), LOGONS)
    _, (report,) = ingest_and_scan(deployment, actor, [logs], unit="C01", workers=1)
    assert report.stats.errors == {
        "55555555-5555-4555-8555-555555555555": "window longer than 31 days: older events are "
        "looked for up to 31 days back only"
    }


def test_correlation_reach_is_the_longest_window_cut_at_the_maximum() -> None:
    def rule(rule_id: str, sql: str) -> CompiledRule:
        return CompiledRule(rule_id, "correlation", "correlation", sql, (), True)

    def window(seconds: int) -> str:
        return f"... RANGE BETWEEN CURRENT ROW AND INTERVAL '{seconds} seconds' FOLLOWING) ..."

    assert correlation_reach([rule("a", window(300))]) == (timedelta(minutes=5), [])
    assert correlation_reach([rule("a", window(300)), rule("b", window(3 * 86400))]) == (
        timedelta(days=3),
        [],
    )
    # A rule whose window cannot be read gets the default reach rather than the others'.
    assert correlation_reach([rule("a", window(300)), rule("b", "SELECT 1")]) == (
        timedelta(days=2),
        [],
    )
    assert correlation_reach([rule("a", window(40 * 86400))]) == (timedelta(days=31), ["a"])
