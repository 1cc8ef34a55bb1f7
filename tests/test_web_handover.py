"""The shift handover page, its notes, and the report downloads it and the dashboard offer."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import BEFORE
from tests.web_fixtures import FINDINGS, PASSWORD, WebWorld, build_world
from vigil.cases.handover import add_handover_note
from vigil.cases.models import HandoverNote
from vigil.cases.service import case_steps, close_case, mark_step_not_applicable
from vigil.cases.triage import escalate
from vigil.deployment import Deployment
from vigil.store.models import AuditEntry
from vigil.store.users import actor_for, get_user

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
#: The standard shift around the test clock (10:00 local on 1 Feb 2026): 07:00-15:00 local.
SHIFT = {"start": "2026-02-01T07:00", "end": "2026-02-01T15:00"}
C01_NOTE = "Máy PC-HOAAN-01 đã cách ly, chờ kỹ thuật xã Hòa An"
C02_NOTE = "Đã báo nhà mạng chặn tên miền giả"


@pytest.fixture
def world(deployment: Deployment) -> WebWorld:
    w = build_world(deployment)
    with deployment.store.session() as session:
        for username, text in (("c01", C01_NOTE), ("c02", C02_NOTE)):
            actor = actor_for(get_user(session, username), deployment.units)
            add_handover_note(session, actor, text, now=deployment.now())
    return w


@pytest.fixture
def client(world: WebWorld) -> Iterator[TestClient]:
    with TestClient(world.app, follow_redirects=False) as c:
        yield c


def login(client: TestClient, username: str) -> str:
    token = TOKEN.search(client.get("/login").text)
    assert token
    done = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)},
    )
    assert done.status_code == 303, done.text
    match = TOKEN.search(client.get("/").text)
    assert match
    return match.group(1)


def section(html: str, name: str) -> str:
    match = re.search(rf'<section class="card" data-test="{name}">(.*?)</section>', html, re.S)
    assert match, f"no section {name}"
    return match.group(1)


def finding_ids(html: str) -> set[int]:
    return {int(i) for i in re.findall(r'data-finding="(\d+)"', html)}


def audit_actions(world: WebWorld, action: str) -> list[AuditEntry]:
    with world.deployment.store.reader() as session:
        rows = list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))
        session.expunge_all()
        return rows


def pdftotext(pdf: bytes, tmp_path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is missing: install poppler-utils (scripts/system-deps.sh)")
    path = tmp_path / "download.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def test_handover_page_lists_what_came_in_the_open_alerts_and_the_notes(
    client: TestClient, world: WebWorld
) -> None:
    login(client, "duty")
    page = client.get("/duty/handover")
    assert page.status_code == 200
    html = page.text
    assert "<h1>Giao ca · Tỉnh Thử</h1>" in html
    assert 'data-test="period">2026-02-01 07:00 – 2026-02-01 15:00<' in html
    ids = world.ids
    # First seen 01:00 and 02:00 UTC, inside the shift; the rest earlier, or below the threshold.
    assert finding_ids(section(html, "came-in")) == {ids["c01_high"], ids["c01pol_critical"]}
    assert finding_ids(section(html, "open-alerts")) == {
        ids["c01_high"],
        ids["c01pol_critical"],
        ids["c01_medium"],
        ids["c02_high"],
    }
    assert FINDINGS["c01_high"].title_vi in section(html, "came-in")
    notes = section(html, "notes")
    assert C01_NOTE in notes and C02_NOTE in notes
    assert "Nguyễn Văn Một" in notes  # the author by name
    assert "Không có vụ việc đang mở." in section(html, "open-cases")
    assert "Không có vụ việc quá hạn." in section(html, "overdue-cases")
    # The menu marks the handover, not the roster it sits under.
    assert '<a href="/duty/handover" class="active" aria-current="page">Giao ca</a>' in html
    assert '<a href="/duty" class="active"' not in html


def case_ids(html: str) -> set[int]:
    return {int(i) for i in re.findall(r'data-case="(\d+)"', html)}


def test_handover_page_lists_open_overdue_and_closed_cases(
    client: TestClient, world: WebWorld
) -> None:
    dep, ids, h = world.deployment, world.ids, timedelta(hours=1)
    system = dep.system("test")
    with dep.store.session() as session:
        policy = dep.policy()
        opened = escalate(session, system, [ids["c01_medium"]], policy, BEFORE).id
        # High in 'before' is due 8 hours after opening: opened 20 hours ago, it is late.
        late = escalate(session, system, [ids["c02_high"]], policy, BEFORE - 20 * h).id
        closed = escalate(session, system, [ids["c01_high"]], policy, BEFORE - h).id
        for step in case_steps(session, system, closed):  # a case closes with every step settled
            mark_step_not_applicable(
                session, system, closed, step.position, "drill", BEFORE - h / 2
            )
        close_case(session, system, closed, "Đã gỡ mã độc", BEFORE - h / 2)
    login(client, "duty")
    html = client.get("/duty/handover").text
    assert case_ids(section(html, "open-cases")) == {opened, late}
    assert case_ids(section(html, "overdue-cases")) == {late}
    assert case_ids(section(html, "closed-cases")) == {closed}
    client.post("/logout", data={"csrf_token": TOKEN.findall(html)[0]})
    login(client, "c02")
    html = client.get("/duty/handover").text
    assert case_ids(section(html, "open-cases")) == {late}
    assert "Không có vụ việc nào được đóng trong ca." in section(html, "closed-cases")


def test_the_period_is_selectable(client: TestClient, world: WebWorld) -> None:
    login(client, "duty")
    html = client.get(
        "/duty/handover", params={"start": "2026-01-31T07:00", "end": "2026-01-31T15:00"}
    ).text
    # The C02 lookalike domain came in at 10:00 local the day before; no note was written then.
    assert finding_ids(section(html, "came-in")) == {world.ids["c02_high"]}
    assert "Không có ghi chú." in section(html, "notes")
    # A period typed wrong: back to the current shift, the reason said there.
    backwards = client.get("/duty/handover", params={"start": SHIFT["end"], "end": SHIFT["start"]})
    assert (backwards.status_code, backwards.headers["location"]) == (303, "/duty/handover")
    client.get("/duty/handover")
    too_long = client.get(
        "/duty/handover", params={"start": "2026-01-01T07:00", "end": "2026-02-01T07:00"}
    )
    assert (too_long.status_code, too_long.headers["location"]) == (303, "/duty/handover")
    assert "Một lần giao ca bao quát tối đa 7 ngày" in client.get("/duty/handover").text


def test_a_c02_officer_sees_only_c02(client: TestClient, world: WebWorld) -> None:
    login(client, "c02")
    html = client.get("/duty/handover", params=SHIFT).text
    assert "<h1>Giao ca · Xã Phú Lộc</h1>" in html
    assert finding_ids(html) == {world.ids["c02_high"]}
    for key in ("c01_high", "c01pol_critical", "c01_medium"):
        assert FINDINGS[key].title_vi not in html
    assert C02_NOTE in html and C01_NOTE not in html


def test_adding_a_note_through_the_form(client: TestClient, world: WebWorld) -> None:
    token = login(client, "c01")
    text = "Ca sau kiểm tra lại <máy chủ> bầu cử lúc 16:00"
    no_token = client.post("/duty/handover/notes", data={"text": text})
    assert no_token.status_code == 403
    done = client.post(
        "/duty/handover/notes",
        data={"text": text, "csrf_token": token, "next": "/duty/handover?start=x"},
    )
    assert (done.status_code, done.headers["location"]) == (303, "/duty/handover?start=x")
    html = client.get("/duty/handover").text
    assert "Đã thêm ghi chú." in html
    assert "Ca sau kiểm tra lại &lt;máy chủ&gt; bầu cử lúc 16:00" in section(html, "notes")
    with world.deployment.store.reader() as session:
        note = session.scalars(select(HandoverNote).where(HandoverNote.text == text)).one()
        assert (note.unit, note.author) == ("C01", "c01")
    [entry] = [e for e in audit_actions(world, "duty.handover_note") if e.actor == "c01"][-1:]
    assert entry.target == f"handover_note:{note.id}"


def test_a_viewer_may_read_but_not_write_notes(client: TestClient, world: WebWorld) -> None:
    token = login(client, "viewer")
    html = client.get("/duty/handover").text
    assert C01_NOTE in html
    assert 'action="/duty/handover/notes"' not in html
    refused = client.post("/duty/handover/notes", data={"text": "x", "csrf_token": token})
    assert refused.status_code == 403


def test_handover_pdf_download_in_the_users_language(
    client: TestClient, world: WebWorld, tmp_path: Path
) -> None:
    token = login(client, "duty")
    html = client.get("/duty/handover").text
    form = re.search(r'data-test="download-handover">(.*?)</form>', html, re.S)
    assert form
    fields = dict(re.findall(r'name="(start|end|lang)" value="([^"]*)"', form.group(1)))
    assert fields == {"start": "2026-02-01T07:00:00", "end": "2026-02-01T15:00:00", "lang": "vi"}
    response = client.post(
        "/reports/handover", data={**fields, "format": "pdf", "csrf_token": token}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == (
        'attachment; filename="handover-20260201-0700.pdf"'
    )
    assert response.content.startswith(b"%PDF-")
    text = pdftotext(response.content, tmp_path)
    assert "BÁO CÁO BÀN GIAO CA TRỰC" in text
    assert "Ca trực từ 01/02/2026 07:00 đến 01/02/2026 15:00" in text
    [entry] = audit_actions(world, "report.generate")
    assert (entry.actor, entry.target, entry.detail["lang"]) == ("duty", "report:handover", "vi")
    kept = world.deployment.settings.data / "reports" / "handover-20260201-0700.pdf"
    assert kept.read_bytes() == response.content


def test_handover_html_download_of_a_c02_officer_holds_no_c01_data(
    client: TestClient, world: WebWorld
) -> None:
    token = login(client, "c02")
    response = client.post(
        "/reports/handover",
        data={**SHIFT, "format": "html", "lang": "en", "csrf_token": token},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment;")
    html = response.text
    assert "Shift handover report" in html
    assert C02_NOTE in html and C01_NOTE not in html
    assert FINDINGS["c02_high"].title in html
    for key in ("c01_high", "c01pol_critical", "c01_medium"):
        assert FINDINGS[key].title not in html


def test_daily_report_from_the_dashboard(
    client: TestClient, world: WebWorld, tmp_path: Path
) -> None:
    token = login(client, "duty")
    dashboard = client.get("/").text
    assert 'href="/duty/handover"' in dashboard
    form = re.search(r'data-test="download-daily">(.*?)</form>', dashboard, re.S)
    assert form and 'name="day" value="2026-02-01"' in form.group(1)
    no_token = client.post("/reports/daily", data={"day": "2026-02-01", "format": "pdf"})
    assert no_token.status_code == 403
    response = client.post(
        "/reports/daily",
        data={"day": "2026-02-01", "format": "pdf", "lang": "vi", "csrf_token": token},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert "BÁO CÁO TÌNH HÌNH HẰNG NGÀY" in pdftotext(response.content, tmp_path)
    bad_day = client.post(
        "/reports/daily", data={"day": "01/02/2026", "format": "pdf", "csrf_token": token}
    )
    # Said on the dashboard the form is on, in the officer's language.
    assert (bad_day.status_code, bad_day.headers["location"]) == (303, "/")
    assert "day: không phải ngày hợp lệ: &#39;01/02/2026&#39; (nhập theo dạng 2026-03-14)" in (
        client.get("/").text
    )
