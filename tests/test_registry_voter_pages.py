"""The voter-list pages: counts, changes and masked rows of the officer's communes only; building
and unmasking need their permission and the CSRF token, and leave their audit entries; every
string in Vietnamese."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from fastapi.testclient import TestClient
from sqlalchemy import select

import vigil.registry
from tests.test_registry_voters import DEATH, PEOPLE, household, person, write
from tests.web_fixtures import PASSWORD, WebWorld, api_login, build_world
from vigil.core.i18n import translations
from vigil.deployment import Deployment
from vigil.registry.datasets import DEATHS, HOUSEHOLDS, PERSONS
from vigil.store.models import AuditEntry
from vigil.store.users import create_user


@pytest.fixture
def world(deployment: Deployment) -> WebWorld:
    world = build_world(deployment)
    with deployment.store.session() as session:
        for name, unit in (("data1", "C01"), ("data2", "C02")):
            create_user(session, deployment.units, name, PASSWORD, "data_officer", unit, "Cán bộ")
    write(deployment, PERSONS, "persons", PEOPLE, "p1")
    write(deployment, DEATHS, "deaths", [DEATH], "d1")
    write(deployment, HOUSEHOLDS, "households", [household("H1")], "h1")
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


def _audit(world: WebWorld, action: str) -> list[tuple[str, str]]:
    with world.deployment.store.reader() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()
        return [(e.actor, e.target) for e in rows]


def test_a_data_officer_builds_and_reads_the_masked_list(world: WebWorld) -> None:
    client, token = _client(world, "data1")
    overview = client.get("/registry/voters").text
    assert list(_rows(overview, "data-commune")) == ["C01"]  # their commune only
    assert client.post("/registry/voters/build", data={"commune": "C01"}).status_code == 403
    done = client.post("/registry/voters/build", data={"commune": "C01", "csrf_token": token})
    assert (done.status_code, done.headers["location"]) == (303, "/registry/voters/C01")
    assert _audit(world, "registry.voters.build") == [("data1", "voter-list:1")]
    html = client.get("/registry/voters/C01").text
    assert "<strong>4</strong> cử tri" in html
    assert {a: r[1] for a, r in _rows(html, "data-area").items()} == {
        "C01-V01": "2", "C01-V02": "1", "C01-unassigned": "1"
    }  # fmt: skip
    rows = _rows(html, "data-person")
    assert rows["P1"][1:] == ["P1", "Nguyễn V. A.", "1990", "Nam", "046*******01"]
    assert "Nguyễn Văn An" not in html
    assert "Danh sách đầu tiên: chưa có gì để so sánh." in html
    assert _audit(world, "personal.view") == []


def test_the_reveal_shows_personal_data_and_is_audited(world: WebWorld) -> None:
    client, token = _client(world, "data1")
    client.post("/registry/voters/build", data={"commune": "C01", "csrf_token": token})
    assert client.post("/registry/voters/C01/reveal", data={}).status_code == 403
    shown = client.post("/registry/voters/C01/reveal", data={"csrf_token": token})
    assert shown.status_code == 200
    assert _rows(shown.text, "data-person")["P1"][2:4] == ["Nguyễn Văn An", "1990-01-01"]
    assert _audit(world, "personal.view") == [("data1", "voter-list:1")]
    viewer, vtoken = _client(world, "viewer")
    assert "/reveal" not in viewer.get("/registry/voters/C01").text
    assert (
        viewer.post("/registry/voters/C01/reveal", data={"csrf_token": vtoken}).status_code == 403
    )
    assert (
        viewer.post(
            "/registry/voters/build", data={"commune": "C01", "csrf_token": vtoken}
        ).status_code
        == 403
    )


def test_another_communes_list_is_not_found(world: WebWorld) -> None:
    admin, token = _client(world, "admin")
    admin.post("/registry/voters/build", data={"commune": "C01", "csrf_token": token})
    other, otoken = _client(world, "data2")
    assert other.get("/registry/voters/C01").status_code == 404
    assert other.get("/registry/voters/C01/export?format=csv").status_code == 404
    assert other.post("/registry/voters/C01/export", data={"csrf_token": otoken}).status_code == 404
    assert (
        other.post(
            "/registry/voters/build", data={"commune": "C01", "csrf_token": otoken}
        ).status_code
        == 404
    )
    assert admin.get("/registry/voters/D01").status_code == 404
    assert admin.get("/registry/voters/C02").status_code == 404  # no list built yet


def test_exports_masked_by_get_unmasked_by_post_both_audited(world: WebWorld) -> None:
    client, token = _client(world, "data1")
    client.post("/registry/voters/build", data={"commune": "C01", "csrf_token": token})
    masked = client.get("/registry/voters/C01/export?format=csv")
    assert masked.status_code == 200 and masked.headers["content-type"].startswith("text/csv")
    assert "Nguyễn V. A." in masked.text and "Nguyễn Văn An" not in masked.text
    full = client.post("/registry/voters/C01/export", data={"csrf_token": token, "format": "csv"})
    assert "P1,Nguyễn Văn An,1990-01-01" in full.text
    assert _audit(world, "registry.voters.export") == [("data1", "voter-list:1")] * 2
    assert _audit(world, "personal.view") == [("data1", "voter-list:1")]
    pdf = client.get("/registry/voters/C01/export?format=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client.get("/registry/voters/C01/export?format=xls").status_code == 422


def test_a_second_list_shows_its_changes(world: WebWorld) -> None:
    client, token = _client(world, "data1")
    client.post("/registry/voters/build", data={"commune": "C01", "csrf_token": token})
    write(world.deployment, PERSONS, "persons", [person("P20", village="C01-V02")], "p2")
    client.post("/registry/voters/build", data={"commune": "C01", "csrf_token": token})
    html = client.get("/registry/voters/C01").text
    assert _rows(html, "data-change") == {
        "added": ["bổ sung", "có tên mới trong cơ sở dữ liệu", "C01-V02", "P20"]
    }
    assert "?version=1" in html
    first = client.get("/registry/voters/C01?version=1").text
    assert "<strong>4</strong>" in first


def test_every_page_string_is_translated() -> None:
    room = Path(vigil.registry.__file__).parent
    vi = translations("vi")
    found = []
    for folder, pattern in ((room / "templates", "registry_voter*.html"),
                            (room / "voters", "report_templates/**.html")):  # fmt: skip
        options = {pattern: {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}}
        found += [
            m for _f, _l, m, _c, _x in extract_from_dir(str(folder), [(pattern, "jinja2")], options)
        ]
    assert len(found) > 30
    reasons = ["added", "removed", "came_of_age", "moved_in", "listed", "died", "death_record",
               "moved_away", "delisted", "Voter lists", "moved", "area_changed"]  # fmt: skip
    wanted = [m for m in found if isinstance(m, str)] + reasons
    assert [m for m in wanted if vi.gettext(m) == m] == []


def test_one_polling_area_is_shown_and_exported_alone(world: WebWorld) -> None:
    client, token = _client(world, "data1")
    client.post("/registry/voters/build", data={"commune": "C01", "csrf_token": token})
    html = client.get("/registry/voters/C01?area=C01-V01").text
    assert sorted(_rows(html, "data-person")) == ["P1", "P2"]
    assert "export?format=csv&version=1&area=C01-V01" in html
    body = client.get("/registry/voters/C01/export?format=csv&area=C01-V01")
    assert [line.split(",")[1] for line in body.text.splitlines()[1:]] == ["P1", "P2"]
    assert body.headers["content-disposition"] == 'attachment; filename="voters-C01-C01-V01.csv"'


def test_the_dashboard_panel_counts_the_officers_lists(world: WebWorld) -> None:
    client, token = _client(world, "data1")
    client.post("/registry/voters/build", data={"commune": "C01", "csrf_token": token})
    panel = re.search(r'data-panel="registry.voters".*?</section>', client.get("/").text, re.S)
    assert panel
    counts = {k: v[1] for k, v in _rows(panel.group(0), "data-count").items()}
    assert counts == {"lists": "1 / 1", "voters": "4", "added": "0", "removed": "0"}
    other, _ = _client(world, "data2")
    panel = re.search(r'data-panel="registry.voters".*?</section>', other.get("/").text, re.S)
    assert panel and "Chưa lập danh sách." in panel.group(0)
