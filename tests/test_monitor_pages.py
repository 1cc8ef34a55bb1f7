"""The monitor's web pages: event search, detections, coverage, sensors; units and escaping."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from fastapi.testclient import TestClient

import vigil.monitor
from tests.conftest import BEFORE
from tests.web_fixtures import WebWorld, api_login, build_world
from vigil.core.i18n import translations
from vigil.deployment import Deployment
from vigil.monitor.detect.sigma.ruleset import add_rule_set, set_rule_enabled
from vigil.monitor.detect.sigma.scan import scan_all
from vigil.monitor.ingest.pipeline import ingest_files
from vigil.monitor.review.views import KINDS, event_page
from vigil.store.findings import list_findings

pytestmark = pytest.mark.filterwarnings("ignore:Arrow output on a DB-API result")

FAILED_LOGON_ID = "a1111111-1111-4111-8111-111111111111"
RULES = {
    "failed_logon.yml": f"""\
title: Failed logon from the election LAN
id: {FAILED_LOGON_ID}
status: test
level: medium
tags: [attack.credential-access, attack.t1110]
logsource: {{product: windows, service: security}}
detection:
    selection:
        EventID: 4625
        IpAddress|startswith: '10.0.0.'
    condition: selection
""",
    "account_created.yml": """\
title: Local account created
id: a2222222-2222-4222-8222-222222222222
status: test
level: high
tags: [attack.persistence, attack.t1136.001]
logsource: {product: windows, service: security}
detection:
    selection: {EventID: 4720}
    condition: selection
""",
    "account_deleted.yml": """\
title: Local account deleted
id: a3333333-3333-4333-8333-333333333333
status: test
level: low
tags: [attack.persistence, attack.t1531]
logsource: {product: windows, service: security}
detection:
    selection: {EventID: 4726}
    condition: selection
""",
}


def _event(at: datetime, host: str, code: int, record: int, **fields: str) -> str:
    return json.dumps(
        {
            "@timestamp": at.isoformat() + "Z",
            "Hostname": host,
            "EventID": code,
            "Channel": "Security",
            "EventRecordID": record,
            **fields,
        }
    )


@pytest.fixture
def world(deployment: Deployment, tmp_path: Path) -> WebWorld:
    """ws-c01 in C01: two failed logons the rule matches (one with markup in it) and a good
    logon, all in the last 20 minutes. ws-c02 in C02: one failed logon 3 hours ago, silent."""
    world = build_world(deployment)
    actor = deployment.system("test")
    folder = tmp_path / "rules"
    folder.mkdir()
    for name, text in RULES.items():
        (folder / name).write_text(text, encoding="utf-8")
    with deployment.store.session() as session:
        add_rule_set(session, actor, folder, "local")
        set_rule_enabled(session, actor, "a3333333-3333-4333-8333-333333333333", False)
    c01 = tmp_path / "c01.jsonl"
    c01.write_text(
        "\n".join(
            [
                _event(
                    BEFORE - timedelta(minutes=20),
                    "ws-c01",
                    4625,
                    1,
                    IpAddress="10.0.0.9",
                    TargetUserName="admin",
                ),
                _event(
                    BEFORE - timedelta(minutes=15),
                    "ws-c01",
                    4625,
                    2,
                    IpAddress="10.0.0.9",
                    TargetUserName="<b>bqt</b>",
                ),
                _event(
                    BEFORE - timedelta(minutes=10),
                    "ws-c01",
                    4624,
                    3,
                    IpAddress="10.0.0.4",
                    TargetUserName="hoa.nguyen",
                ),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    c02 = tmp_path / "c02.jsonl"
    c02.write_text(
        _event(
            BEFORE - timedelta(hours=3),
            "ws-c02",
            4625,
            1,
            IpAddress="192.168.1.5",
            TargetUserName="admin",
        )
        + "\n",
        encoding="utf-8",
    )
    ingest_files(deployment, actor, [c01], unit="C01", workers=1)
    ingest_files(deployment, actor, [c02], unit="C02", workers=1)
    scan_all(deployment, actor)
    return world


def _client(world: WebWorld, username: str) -> TestClient:
    client = TestClient(world.app, follow_redirects=False)
    api_login(client, username)
    return client


def _rows(html: str, attr: str) -> dict[str, list[str]]:
    """Table rows keyed by a data attribute, each as the text of its cells."""
    out = {}
    for key, body in re.findall(rf'<tr {attr}="([^"]*)"[^>]*>(.*?)</tr>', html, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)
        out[key] = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", c)).strip() for c in cells]
    return out


def _detection_id(deployment: Deployment) -> int:
    with deployment.store.reader() as session:
        (row,) = [
            r for r in list_findings(session, capability="monitor") if r.rule == FAILED_LOGON_ID
        ]
        return row.id


def test_pages_need_a_login(world: WebWorld) -> None:
    client = TestClient(world.app, follow_redirects=False)
    for path in ("/monitor/events", "/monitor/detections", "/monitor/coverage", "/monitor/sensors"):
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=/monitor/")


def test_event_search_by_field_time_and_host(world: WebWorld) -> None:
    client = _client(world, "admin")
    html = client.get("/monitor/events", params={"field": "TargetUserName=HOA.NGUYEN"}).text
    rows = _rows(html, "data-event")
    assert len(rows) == 1
    (cells,) = rows.values()
    # 02:50 UTC is 09:50 in the province.
    assert cells[:5] == ["2026-02-01 09:50:00", "ws-c01", "Xã Hòa An", "Security", "4624"]
    # One line per event: key fields summed up in a column, every field in a folded detail.
    assert "TargetUserName =hoa.nguyen" in cells[5]
    assert "TargetUserName hoa.nguyen" in cells[6]
    assert html.count('<details class="event-detail">') == 1

    # 09:42-09:50 local holds only the second failed logon; its markup is shown, escaped.
    html = client.get(
        "/monitor/events", params={"since": "2026-02-01T09:42", "until": "2026-02-01T09:50"}
    ).text
    ((cells),) = _rows(html, "data-event").values()
    assert cells[0] == "2026-02-01 09:45:00"
    assert "&lt;b&gt;bqt&lt;/b&gt;" in html and "<b>bqt</b>" not in html

    html = client.get("/monitor/events", params={"host": "ws-c02"}).text
    assert [c[1] for c in _rows(html, "data-event").values()] == ["ws-c02"]
    assert client.get("/monitor/events", params={"field": "nonsense"}).status_code == 422


def test_event_pages(world: WebWorld) -> None:
    actor = world.deployment.system("test")
    first = event_page(world.deployment, actor, host="ws-c01", page=1, size=2)
    second = event_page(world.deployment, actor, host="ws-c01", page=2, size=2)
    assert [e["EventRecordID"] for e in first.items] == ["3", "2"]
    assert first.has_next is True
    assert [e["EventRecordID"] for e in second.items] == ["1"]
    assert second.has_next is False


def test_officer_sees_only_their_units(world: WebWorld) -> None:
    c02 = _client(world, "c02")
    events = _rows(c02.get("/monitor/events").text, "data-event")
    assert [cells[1] for cells in events.values()] == ["ws-c02"]
    assert _rows(c02.get("/monitor/events?host=ws-c01").text, "data-event") == {}
    detections = c02.get("/monitor/detections").text
    assert "ws-c01" not in detections and "PC-HOAAN" not in detections
    assert "Không có phát hiện nào." in detections
    assert c02.get(f"/monitor/detections/{_detection_id(world.deployment)}").status_code == 404
    sensors = c02.get("/monitor/sensors").text
    assert list(_rows(sensors, "data-sensor")) == ["ws-c02/jsonl"]
    # The rule fired on a C01 host only: for C02 nothing has fired.
    coverage = _rows(c02.get("/monitor/coverage").text, "data-tactic")
    assert coverage["credential-access"][1:] == ["1", "1", "1", "0"]


def test_detection_lists_its_events_and_rule(world: WebWorld) -> None:
    client = _client(world, "c01")
    fid = _detection_id(world.deployment)
    listing = _rows(client.get("/monitor/detections?kind=sigma").text, "data-finding")
    assert list(listing) == [str(fid)]
    assert listing[str(fid)][1:6] == [
        "Sigma",
        "Phát hiện Sigma: Failed logon from the election LAN",
        "ws-c01",
        "Xã Hòa An",
        "2",
    ]
    everything = _rows(client.get("/monitor/detections").text, "data-finding")
    assert everything[str(world.ids["c01_high"])][1] == "khác"  # not from a rule set
    assert set(everything) == {
        str(fid),
        *(str(world.ids[k]) for k in ("c01_high", "c01_medium", "c01pol_critical")),
    }

    html = client.get(f"/monitor/detections/{fid}").text
    assert re.search(r'data-test="level">trung bình<', html)
    assert re.search(r'data-test="tactics">credential-access<', html)
    assert re.search(r'data-test="techniques">T1110<', html)
    events = _rows(html, "data-event")
    assert [cells[0] for cells in events.values()] == [
        "2026-02-01 09:40:00",
        "2026-02-01 09:45:00",
    ]
    assert ["IpAddress 10.0.0.9" in cells[4] for cells in events.values()] == [True, True]
    assert "&lt;b&gt;bqt&lt;/b&gt;" in html and "<b>bqt</b>" not in html
    assert client.get("/monitor/detections/999999").status_code == 404


def test_coverage_counts_per_tactic(world: WebWorld) -> None:
    rows = _rows(_client(world, "admin").get("/monitor/coverage").text, "data-tactic")
    # tactic, rules, enabled, techniques, fired
    assert rows == {
        "persistence": ["persistence", "2", "1", "2", "0"],
        "credential-access": ["credential-access", "1", "1", "1", "1"],
    }


def test_sensor_page_marks_the_silent_host(world: WebWorld) -> None:
    html = _client(world, "admin").get("/monitor/sensors").text
    assert "sau 60 phút không có sự kiện" in html
    assert re.findall(r'<section class="card" data-unit="([^"]+)"', html) == ["C01", "C02"]
    rows = _rows(html, "data-sensor")
    assert rows["ws-c01/jsonl"][5] == "đang gửi dữ liệu"
    assert rows["ws-c02/jsonl"][5] == "im lặng 180 phút"
    assert '<tr data-sensor="ws-c02/jsonl" class="silent">' in html
    assert "1 cảm biến im lặng" in html


def test_nav_has_the_monitor_pages(world: WebWorld) -> None:
    html = _client(world, "viewer").get("/monitor/coverage").text
    assert (
        '<a href="/monitor/coverage" class="active" aria-current="page">Độ phủ quy tắc</a>' in html
    )
    assert '<a href="/monitor/sensors">Tình trạng cảm biến</a>' in html


def test_every_page_string_is_translated() -> None:
    room = Path(vigil.monitor.__file__).parent
    method_map = [
        ("templates/**.html", "jinja2"),
        ("pages/routes.py", "python"),
        ("review/views.py", "python"),
    ]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}}
    vi = translations("vi")
    found = [m for _f, _l, m, _c, _x in extract_from_dir(str(room), method_map, options)]
    assert len(found) > 40
    missing = []
    for message in found:
        if isinstance(message, str):
            missing += [message] if vi.gettext(message) == message else []
        elif vi.ngettext(message[0], message[1], 2) == message[1]:
            missing.append(message[0])
    missing += [k for k in KINDS if vi.gettext(k) == k and k != "sigma"]
    assert missing == []
