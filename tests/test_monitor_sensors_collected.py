"""Collected logs (copied off a host, replayed samples) against live sensors: only a live sensor
can fall silent; a live ingest makes a host live for good; an officer may mark a host by hand."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.conftest import BEFORE, shared_data
from tests.web_fixtures import api_login, build_world
from vigil.cli import build_cli
from vigil.core.access import Actor, Role
from vigil.core.errors import NotFoundError, PermissionDenied
from vigil.deployment import Deployment
from vigil.monitor.demo.build import build_demo
from vigil.monitor.demo.replay import SHARED_DATA_ENV
from vigil.monitor.detect.sensors import SILENT_RULE, list_sensors, read_sensors, silence_findings
from vigil.monitor.ingest.hosts import host_units, list_hosts, mark_host, set_host_unit
from vigil.monitor.ingest.pipeline import ingest_files
from vigil.monitor.plugin import vigil_detect
from vigil.monitor.review.views import sensor_health
from vigil.plugins import DemoContext
from vigil.store.models import AuditEntry

pytestmark = pytest.mark.filterwarnings("ignore:Arrow output on a DB-API result")

#: SigmaHQ-style lab samples: recorded months before the test clock (2026-02-01 03:00 UTC).
MONTHS_AGO = datetime(2025, 9, 14, 10, 0, 0)


def _log(path: Path, host: str, *times: datetime) -> Path:
    path.write_text(
        "".join(
            json.dumps(
                {
                    "@timestamp": at.isoformat() + "Z",
                    "Hostname": host,
                    "EventID": 4624,
                    "Channel": "Security",
                    "EventRecordID": n,
                    "TargetUserName": "canbo",
                }
            )
            + "\n"
            for n, at in enumerate(times, start=1)
        ),
        encoding="utf-8",
    )
    return path


def _audit(deployment: Deployment, action: str) -> list[tuple[str, str, str | None, Any]]:
    with deployment.store.reader() as session:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
        return [(r.actor, r.target, r.unit, r.detail) for r in rows]


def _officer(role: Role, unit: str = "P01") -> Actor:
    scope = frozenset({"P01", "D01", "C01", "C01-POL", "C02"} if unit == "P01" else {unit})
    return Actor(username=f"{role}-{unit}", role=role, unit=unit, scope=scope)


def test_a_collected_host_never_falls_silent_and_a_silent_live_host_does(
    deployment: Deployment, tmp_path: Path
) -> None:
    actor = deployment.system("test")
    live = _log(tmp_path / "ws-live.jsonl", "ws-live", BEFORE - timedelta(minutes=120))
    lab = _log(
        tmp_path / "lab-dc01.jsonl", "lab-dc01", MONTHS_AGO, MONTHS_AGO + timedelta(minutes=3)
    )
    ingest_files(deployment, actor, [live], unit="C01", workers=1)
    result = ingest_files(deployment, actor, [lab], unit="C02", workers=1, collected=True)
    assert [(p.host, p.unit, p.collected) for p in result.placed] == [("lab-dc01", "C02", True)]

    # 120 minutes over a 60-minute limit: exactly one finding, for the live host.
    (finding,) = silence_findings(deployment)
    assert (finding.rule, finding.subject, finding.unit) == (SILENT_RULE, "ws-live", "C01")
    assert finding.evidence["silent_minutes"] == 120
    assert [f.subject for f in vigil_detect(deployment).findings] == ["ws-live"]
    # Listed all the same, and saying why they cannot fall silent.
    sensors = {s.host: (s.unit, s.events, s.collected) for s in read_sensors(deployment)}
    assert sensors == {"ws-live": ("C01", 1, False), "lab-dc01": ("C02", 2, True)}
    c02 = _officer(Role.VIEWER, "C02")
    assert [(s.host, s.collected) for s in list_sensors(deployment, c02)] == [("lab-dc01", True)]
    limit, health = sensor_health(deployment, deployment.system("test"))
    assert limit == 60
    assert [(h.sensor.host, h.quiet_minutes > limit, h.silent) for h in health] == [
        ("ws-live", True, True),
        ("lab-dc01", True, False),
    ]
    # The ingest's audit entry says how the logs came.
    details = [d for _a, _t, _u, d in _audit(deployment, "monitor.ingest")]
    assert [d["collected"] for d in details] == [False, True]
    hosts = [d for _a, _t, _u, d in _audit(deployment, "monitor.hosts.record")]
    assert hosts[1]["marked"] == {"lab-dc01": "collected"}


def test_a_collected_host_seen_live_becomes_live_for_good_and_can_fall_silent(
    deployment: Deployment, tmp_path: Path
) -> None:
    actor = deployment.system("test")
    copy = _log(tmp_path / "copy.jsonl", "ws-07", MONTHS_AGO)
    ingest_files(deployment, actor, [copy], unit="C01", workers=1, collected=True)
    assert silence_findings(deployment) == []

    # Its sensor now sends live: the last event 30 minutes ago, within the limit.
    sent = _log(tmp_path / "sent.jsonl", "ws-07", BEFORE - timedelta(minutes=30))
    ingest_files(deployment, actor, [sent], workers=1)
    with deployment.store.reader() as session:
        assert host_units(session)["ws-07"].collected is False
    assert silence_findings(deployment) == []
    (finding,) = silence_findings(deployment, BEFORE + timedelta(minutes=31))
    assert (finding.subject, finding.evidence["silent_minutes"]) == ("ws-07", 61)

    # Another collected copy of the same host does not make it collected again.
    older = _log(tmp_path / "older.jsonl", "ws-07", MONTHS_AGO - timedelta(days=1))
    ingest_files(deployment, actor, [older], workers=1, collected=True)
    with deployment.store.reader() as session:
        assert host_units(session)["ws-07"].collected is False
    assert [f.subject for f in silence_findings(deployment, BEFORE + timedelta(minutes=31))] == [
        "ws-07"
    ]
    marked = [d["marked"] for _a, _t, _u, d in _audit(deployment, "monitor.hosts.record")]
    assert marked == [{"ws-07": "collected"}, {"ws-07": "live"}]


def test_a_host_placed_ahead_of_its_collected_logs_is_collected(
    deployment: Deployment, tmp_path: Path
) -> None:
    # The demo's replay places the samples' hosts first, then ingests their logs.
    actor = deployment.system("test")
    with deployment.store.session() as session:
        placed = set_host_unit(session, actor, deployment.units, "lab-ws", "D01")
    assert placed.collected is False
    lab = _log(tmp_path / "lab.jsonl", "lab-ws", MONTHS_AGO)
    result = ingest_files(deployment, actor, [lab], unit="C02", workers=1, collected=True)
    assert result.placed == []
    with deployment.store.reader() as session:
        (host,) = list_hosts(session, actor)
    assert (host.host, host.unit, host.source, host.collected) == ("lab-ws", "D01", "manual", True)
    assert silence_findings(deployment) == []


def test_marking_by_hand_needs_analyse_in_the_unit_and_is_audited(
    deployment: Deployment, tmp_path: Path
) -> None:
    system = deployment.system("test")
    live = _log(tmp_path / "ws.jsonl", "ws-c02", BEFORE - timedelta(minutes=90))
    ingest_files(deployment, system, [live], unit="C02", workers=1)
    assert [f.subject for f in silence_findings(deployment)] == ["ws-c02"]

    with deployment.store.session() as session:
        with pytest.raises(PermissionDenied, match="role viewer may not analyse"):
            mark_host(session, _officer(Role.VIEWER), "ws-c02", True)
        # Outside the officer's units a host is as unknown as one never seen (no enumeration).
        with pytest.raises(NotFoundError, match="unknown host 'ws-c02'"):
            mark_host(session, _officer(Role.ANALYST, "C01"), "ws-c02", True)
        with pytest.raises(NotFoundError, match="unknown host 'nope'"):
            mark_host(session, _officer(Role.ANALYST), "nope", True)
    assert _audit(deployment, "monitor.hosts.mark") == []

    analyst = _officer(Role.ANALYST, "C02")
    with deployment.store.session() as session:
        placement = mark_host(session, analyst, "ws-c02", True)
    assert (placement.host, placement.unit, placement.collected) == ("ws-c02", "C02", True)
    assert silence_findings(deployment) == []
    with deployment.store.session() as session:
        mark_host(session, analyst, "ws-c02", False)
    assert [f.subject for f in silence_findings(deployment)] == ["ws-c02"]
    assert _audit(deployment, "monitor.hosts.mark") == [
        ("analyst-C02", "host:ws-c02", "C02", {"from": "live", "to": "collected"}),
        ("analyst-C02", "host:ws-c02", "C02", {"from": "collected", "to": "live"}),
    ]

    # A hand mark holds until a live ingest sees the host again.
    with deployment.store.session() as session:
        mark_host(session, analyst, "ws-c02", True)
    copy = _log(tmp_path / "copy.jsonl", "ws-c02", MONTHS_AGO)
    ingest_files(deployment, system, [copy], workers=1, collected=True)
    assert silence_findings(deployment) == []
    again = _log(tmp_path / "again.jsonl", "ws-c02", BEFORE - timedelta(minutes=80))
    ingest_files(deployment, system, [again], workers=1)
    assert [f.evidence["silent_minutes"] for f in silence_findings(deployment)] == [80]


def _table(out: str) -> dict[str, list[str]]:
    """A Rich table's body rows: first cell -> the other cells."""
    rows = [line.strip("│ ").split("│") for line in out.splitlines() if line.startswith("│")]
    return {cells[0].strip(): [c.strip() for c in cells[1:]] for cells in rows}


def _cli(*args: str, lang: str = "en") -> tuple[int, str]:
    env = {"VIGIL_LANG": lang, "COLUMNS": "200", "VIGIL_CLOCK": BEFORE.isoformat()}
    result = CliRunner().invoke(build_cli(), list(args), env=env)
    return result.exit_code, result.output


def test_cli_ingests_collected_logs_shows_them_and_marks_hosts(
    deployment: Deployment, tmp_path: Path
) -> None:
    data = str(deployment.settings.data)
    live = _log(tmp_path / "ws.jsonl", "ws-live", BEFORE - timedelta(minutes=120))
    lab = _log(tmp_path / "dc.jsonl", "lab-dc01", MONTHS_AGO)
    code, out = _cli("monitor", "ingest", str(live), "--unit", "C01", "--no-rules", "--data", data)
    assert code == 0, out
    code, out = _cli(
        "monitor", "ingest", str(lab), "--unit", "C02", "--collected", "--no-rules", "--data", data
    )
    assert code == 0 and "1 files, 1 new events, 0 quarantined" in out

    code, out = _cli("monitor", "sensors", "--data", data)
    states = {host: cells[-1] for host, cells in _table(out).items()}
    assert states == {"ws-live": "silent for 120 minutes", "lab-dc01": "collected"}
    code, out = _cli("monitor", "sensors", "--data", data, lang="vi")
    states = {host: cells[-1] for host, cells in _table(out).items()}
    assert states == {"ws-live": "im lặng 120 phút", "lab-dc01": "thu thập"}

    code, out = _cli("monitor", "hosts", "--data", data)
    assert _table(out) == {
        "ws-live": ["C01", "ingest", "live"],
        "lab-dc01": ["C02", "ingest", "collected"],
    }
    code, out = _cli("monitor", "hosts", "mark", "lab-dc01", "--live", "--data", data)
    assert (code, out.strip()) == (0, "lab-dc01 is marked live")
    code, out = _cli(
        "monitor", "hosts", "mark", "ws-live", "--collected", "--data", data, lang="vi"
    )
    assert (code, out.strip()) == (0, "ws-live được đánh dấu là thu thập")
    code, out = _cli("monitor", "sensors", "--data", data)
    states = {host: cells[-1] for host, cells in _table(out).items()}
    assert states == {"ws-live": "collected", "lab-dc01": "silent for 201180 minutes"}
    code, out = _cli("monitor", "hosts", "mark", "nope", "--live", "--data", data)
    assert code == 1 and "unknown host 'nope'" in out
    code, out = _cli("monitor", "hosts", "mark", "ws-live", "--data", data)
    assert code == 2
    assert [(a, d) for a, _t, _u, d in _audit(deployment, "monitor.hosts.mark")] == [
        ("cli", {"from": "collected", "to": "live"}),
        ("cli", {"from": "live", "to": "collected"}),
    ]


def test_sensor_page_says_collected_instead_of_silent(
    deployment: Deployment, tmp_path: Path
) -> None:
    world = build_world(deployment)
    actor = deployment.system("test")
    live = _log(tmp_path / "ws.jsonl", "ws-c01", BEFORE - timedelta(minutes=10))
    lab = _log(tmp_path / "lab.jsonl", "lab-dc01", MONTHS_AGO)
    ingest_files(deployment, actor, [live], unit="C01", workers=1)
    ingest_files(deployment, actor, [lab], unit="C01", workers=1, collected=True)
    client = world.client()
    api_login(client, "admin")
    html = client.get("/monitor/sensors").text
    assert '<tr data-sensor="lab-dc01/jsonl" class="collected">' in html
    assert '<span class="pill" data-test="collected"' in html and ">thu thập</span>" in html
    assert 'data-test="silent"' not in html and "mọi cảm biến đều gửi dữ liệu" in html


@pytest.mark.shared_data
def test_the_demo_replays_samples_as_collected_and_only_its_silent_sensor_fires(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SHARED_DATA_ENV, str(shared_data("sigma").parent))
    ctx = DemoContext(deployment=deployment, seed=2027, persons=0)
    build_demo(ctx)
    replayed = {t.subject for t in ctx.truth if t.note.startswith("SigmaHQ sample replayed")}
    (silent,) = [t for t in ctx.truth if t.rule == SILENT_RULE]
    assert len(replayed) >= 2 and silent.subject not in replayed
    sensors = read_sensors(deployment)
    assert {s.host for s in sensors if s.collected} == replayed
    # What `vigil detect` finds at the demo's clock: the planted silence and nothing more.
    found = [(f.rule, f.subject, f.unit) for f in silence_findings(deployment)]
    assert found == [(SILENT_RULE, silent.subject, silent.unit)]
