"""The candidates' pages: list with statuses by unit, mismatches side by side, masked until an
officer allowed to reveals them (audited), every string translated."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from fastapi.testclient import TestClient
from sqlalchemy import select

import vigil.candidates
from tests.candidates_fixtures import ADDRESS_2, CLEAN, csv_text, write_registry
from tests.web_fixtures import WebWorld, api_login, build_world
from vigil.candidates.ingest import import_declarations
from vigil.candidates.mapping import Mapping
from vigil.candidates.review import FIELD_LABELS, STATUSES
from vigil.core.i18n import translations
from vigil.deployment import Deployment
from vigil.detection import run_detectors
from vigil.store.models import AuditEntry

GIANG = {
    "candidate_id": "UCV-2",
    "full_name": "Lê Văn Giang",
    "birth_date": "05/11/1976",
    "citizen_id": "046075000006",
    "commune": "C02",
    "address": ADDRESS_2,
}


@pytest.fixture
def world(deployment: Deployment, tmp_path: Path) -> WebWorld:
    world = build_world(deployment)
    write_registry(deployment)
    path = tmp_path / "list.csv"
    path.write_text(csv_text([CLEAN, GIANG]), encoding="utf-8")
    import_declarations(deployment, path, Mapping())
    [run] = run_detectors(deployment, {"candidates"})
    assert run.error is None
    return world


def _client(world: WebWorld, username: str) -> tuple[TestClient, str]:
    client = TestClient(world.app, follow_redirects=False)
    return client, api_login(client, username)


def _rows(html: str, attr: str) -> dict[str, list[str]]:
    out = {}
    for key, body in re.findall(rf'<tr {attr}="([^"]*)"[^>]*>(.*?)</tr>', html, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)
        out[key] = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", c)).strip() for c in cells]
    return out


def test_pages_need_a_login(world: WebWorld) -> None:
    client = TestClient(world.app, follow_redirects=False)
    for path in ("/candidates", "/candidates/UCV-1"):
        assert client.get(path).status_code == 303


def test_list_shows_each_status_masked_and_scoped_to_the_officers_units(world: WebWorld) -> None:
    client, _ = _client(world, "admin")
    html = client.get("/candidates").text
    rows = _rows(html, "data-candidate")
    assert rows["UCV-1"][1:] == ["Nguyễn V. A.", "Xã Hòa An", "đã xác minh", "0"]
    assert rows["UCV-2"][1:] == ["Lê V. G.", "Xã Phú Lộc", "không khớp", "1"]
    assert "Nguyễn Văn An" not in html
    c01, _ = _client(world, "c01")
    assert list(_rows(c01.get("/candidates").text, "data-candidate")) == ["UCV-1"]
    assert c01.get("/candidates/UCV-2").status_code == 404


def test_detail_side_by_side_and_the_audited_reveal(world: WebWorld) -> None:
    client, token = _client(world, "admin")
    masked = _rows(client.get("/candidates/UCV-2").text, "data-field")
    assert masked == {"birth_date": ["Ngày sinh", "1976", "1975", "dữ liệu ghi ngày sinh khác"]}
    shown = client.post("/candidates/UCV-2/reveal", data={"csrf_token": token})
    assert shown.status_code == 200
    assert _rows(shown.text, "data-field")["birth_date"][1:3] == ["1976-11-05", "1975-11-05"]
    with world.deployment.store.reader() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "personal.view")
        ).all()
    assert [(e.actor, e.target) for e in entries] == [("admin", "candidate:UCV-2")]
    assert client.post("/candidates/UCV-2/reveal", data={}).status_code == 403  # no CSRF token


def test_a_viewer_may_not_reveal(world: WebWorld) -> None:
    client, token = _client(world, "viewer")
    assert 'data-test="reveal"' not in client.get("/candidates/UCV-2").text
    assert client.post("/candidates/UCV-2/reveal", data={"csrf_token": token}).status_code == 403


def test_every_page_string_is_translated() -> None:
    room = Path(vigil.candidates.__file__).parent
    method_map = [("templates/**.html", "jinja2"), ("pages/routes.py", "python")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}}
    vi = translations("vi")
    found = [m for _f, _l, m, _c, _x in extract_from_dir(str(room), method_map, options)]
    assert len(found) > 20
    wanted = [m for m in found if isinstance(m, str)] + list(FIELD_LABELS.values()) + list(STATUSES)
    assert [m for m in wanted if vi.gettext(m) == m] == []


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_report_html_in_each_language_masked(world: WebWorld, lang: str) -> None:
    from vigil.candidates.report import candidates_report

    dep = world.deployment
    report = candidates_report(dep, dep.system("test"), lang)
    title = {"vi": "Báo cáo thẩm tra bản khai của ứng cử viên", "en": "Candidate declaration check"}
    assert f"<h1>{title[lang]}</h1>" in report.html
    assert "UCV-2 — Lê V. G." in report.html and "UCV-1 —" not in report.html
    assert "Lê Văn Giang" not in report.html and "1976-11-05" not in report.html


def test_report_download_as_pdf_from_the_list_page(world: WebWorld) -> None:
    client, token = _client(world, "c02")
    assert 'action="/reports/candidates"' in client.get("/candidates").text
    response = client.post("/reports/candidates", data={"csrf_token": token, "format": "pdf"})
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")


def test_dashboard_panel_counts_the_officers_candidates(world: WebWorld) -> None:
    client, _ = _client(world, "c02")
    html = client.get("/").text
    panel = re.search(r'data-panel="candidates.status".*?</section>', html, re.S)
    assert panel
    counts = {k: v[1] for k, v in _rows(panel.group(0), "data-status").items()}
    assert counts == {"verified": "0", "mismatch": "1", "not_found": "0"}
