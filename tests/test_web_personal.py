"""Personal data in the web app: masked by default, revealed only by a POST that is audited."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import BEFORE
from tests.web_fixtures import PASSWORD, WebWorld, api_login, build_world
from vigil.core.finding import Finding
from vigil.core.severity import Severity
from vigil.deployment import Deployment
from vigil.store.audit import verify_chain
from vigil.store.findings import record_findings
from vigil.store.models import AuditEntry
from vigil.store.users import create_user

CCCD = "046190001245"
PERSONAL = {
    "citizen_id": CCCD,
    "full_name": "Nguyễn Văn An",
    "birth_date": "12/05/1987",
    "phone": "0912678345",
    "address": "Thôn 3, xã Hòa An, tỉnh Phú Yên",
}
MASKED = {
    "citizen_id": "046*******45",
    "full_name": "Nguyễn V. A.",
    "birth_date": "1987",
    "phone": "0912***345",
    "address": "xã Hòa An, tỉnh Phú Yên",
}
FIELDS = ["address", "birth_date", "citizen_id", "full_name", "phone"]
LEAK = Finding(
    "registry",
    "duplicate-citizen-id",
    Severity.HIGH,
    "C01",
    "record:R-1042",
    "Two living persons share one citizen ID",
    "Hai người còn sống trùng số định danh",
    evidence={"records": ["R-1042", "R-7731"], "personal": PERSONAL},
    observed_at=BEFORE - timedelta(minutes=30),
)
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def world(deployment: Deployment) -> WebWorld:
    w = build_world(deployment)
    with deployment.store.session() as session:
        # Data officers hold VIEW_PERSONAL: one over the province, one over another commune.
        create_user(
            session, deployment.units, "data", PASSWORD, "data_officer", "P01", "Đỗ Dữ Liệu"
        )
        create_user(
            session, deployment.units, "data_c02", PASSWORD, "data_officer", "C02", "Hà Hai"
        )
        w.ids["leak"] = record_findings(session, [LEAK]).ids[LEAK.fingerprint]
    return w


@pytest.fixture
def client(world: WebWorld) -> Iterator[TestClient]:
    with TestClient(world.app, follow_redirects=False) as c:
        yield c


def audit_entries(world: WebWorld, action: str | None = None) -> list[AuditEntry]:
    with world.deployment.store.reader() as session:
        q = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            q = q.where(AuditEntry.action == action)
        rows = list(session.scalars(q))
        session.expunge_all()
        return rows


def audit_count(world: WebWorld) -> int:
    with world.deployment.store.reader() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def form_login(client: TestClient, username: str) -> str:
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


# --- JSON API ------------------------------------------------------------------------------------


def test_api_finding_is_masked_by_default_and_reading_it_is_not_audited(
    client: TestClient, world: WebWorld
) -> None:
    api_login(client, "data")  # even a user who may reveal gets it masked until they ask
    before = audit_count(world)
    response = client.get(f"/api/findings/{world.ids['leak']}", params={"reveal": "1"})
    assert response.status_code == 200
    body = response.json()
    assert body["evidence"] == {"records": ["R-1042", "R-7731"], "personal": MASKED}
    assert body["personal_fields"] == FIELDS
    assert body["personal_revealed"] is False
    assert CCCD not in response.text
    assert audit_count(world) == before


def test_api_alert_queue_is_masked(client: TestClient, world: WebWorld) -> None:
    api_login(client, "duty")
    items = client.get("/api/alerts").json()["items"]
    leak = next(i for i in items if i["id"] == world.ids["leak"])
    assert leak["evidence"]["personal"] == MASKED
    others = [i for i in items if i["id"] != world.ids["leak"]]
    assert others and all(i["personal_fields"] == [] for i in others)
    assert CCCD not in client.get("/api/alerts").text


def test_api_reveal_returns_the_evidence_and_audits_the_fields(
    client: TestClient, world: WebWorld
) -> None:
    token = api_login(client, "data")
    fid = world.ids["leak"]
    response = client.post(f"/api/findings/{fid}/reveal", headers={"X-CSRF-Token": token})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["evidence"] == {"records": ["R-1042", "R-7731"], "personal": PERSONAL}
    assert body["personal_revealed"] is True
    [entry] = audit_entries(world, "personal.view")
    assert (entry.actor, entry.role, entry.target, entry.unit) == (
        "data",
        "data_officer",
        f"finding:{fid}",
        "C01",
    )
    assert entry.detail == {"fields": FIELDS, "channel": "api"}
    assert entry.ip == "testclient"
    with world.deployment.store.reader() as session:
        assert verify_chain(session) == []


def test_api_reveal_of_evidence_without_personal_data_is_not_audited(
    client: TestClient, world: WebWorld
) -> None:
    token = api_login(client, "data")
    fid = world.ids["c01_high"]
    response = client.post(f"/api/findings/{fid}/reveal", headers={"X-CSRF-Token": token})
    assert response.status_code == 200
    assert response.json()["personal_fields"] == []
    assert audit_entries(world, "personal.view") == []


@pytest.mark.parametrize("username", ["viewer", "duty", "c01"])
def test_api_reveal_is_refused_without_view_personal(
    client: TestClient, world: WebWorld, username: str
) -> None:
    token = api_login(client, username)
    response = client.post(
        f"/api/findings/{world.ids['leak']}/reveal", headers={"X-CSRF-Token": token}
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert CCCD not in response.text
    assert audit_entries(world, "personal.view") == []


def test_api_reveal_needs_csrf_and_the_unit_in_scope(client: TestClient, world: WebWorld) -> None:
    token = api_login(client, "data_c02")
    url = f"/api/findings/{world.ids['leak']}/reveal"
    no_token = client.post(url)
    assert (no_token.status_code, no_token.json()["error"]["code"]) == (403, "csrf")
    out_of_scope = client.post(url, headers={"X-CSRF-Token": token})
    missing = client.post("/api/findings/999999/reveal", headers={"X-CSRF-Token": token})
    assert out_of_scope.status_code == missing.status_code == 404
    assert out_of_scope.json()["error"]["code"] == missing.json()["error"]["code"]
    assert audit_entries(world, "personal.view") == []


# --- pages ---------------------------------------------------------------------------------------


def test_finding_page_is_masked_and_viewing_it_is_not_audited(
    client: TestClient, world: WebWorld
) -> None:
    form_login(client, "data")
    before = audit_count(world)
    page = client.get(f"/findings/{world.ids['leak']}")
    assert page.status_code == 200
    html = page.text
    assert CCCD not in html
    assert "046*******45" in html and "Nguyễn V. A." in html and "0912***345" in html
    assert "Thôn 3" not in html and "12/05/1987" not in html
    # The masked fields are named in the user's language (Vietnamese), with the reveal button.
    assert "Dữ liệu cá nhân đã được che: Địa chỉ nơi ở, Ngày sinh, Số định danh cá nhân" in html
    assert 'data-test="reveal"' in html
    assert audit_count(world) == before


def test_reveal_button_posts_with_csrf_shows_the_data_and_audits(
    client: TestClient, world: WebWorld
) -> None:
    token = form_login(client, "data")
    fid = world.ids["leak"]
    refused = client.post(f"/findings/{fid}/reveal")
    assert refused.status_code == 403
    page = client.post(f"/findings/{fid}/reveal", data={"csrf_token": token})
    assert page.status_code == 200
    assert CCCD in page.text and "Nguyễn Văn An" in page.text
    assert "Lần xem này đã được ghi vào nhật ký kiểm toán." in page.text
    assert page.headers["cache-control"] == "no-store"
    [entry] = audit_entries(world, "personal.view")
    assert (entry.actor, entry.target, entry.detail) == (
        "data",
        f"finding:{fid}",
        {"fields": FIELDS, "channel": "web"},
    )
    # The reveal lives in that one response: the page read again is masked.
    assert CCCD not in client.get(f"/findings/{fid}").text
    again = client.get(f"/findings/{fid}/reveal")
    assert (again.status_code, again.headers["location"]) == (303, f"/findings/{fid}")
    assert len(audit_entries(world, "personal.view")) == 1


@pytest.mark.parametrize("username", ["viewer", "duty"])
def test_officers_without_view_personal_see_no_button_and_are_refused(
    client: TestClient, world: WebWorld, username: str
) -> None:
    token = form_login(client, username)
    fid = world.ids["leak"]
    html = client.get(f"/findings/{fid}").text
    assert CCCD not in html
    assert 'data-test="reveal"' not in html
    assert "Vai trò của bạn không được xem dữ liệu cá nhân." in html
    refused = client.post(f"/findings/{fid}/reveal", data={"csrf_token": token})
    assert refused.status_code == 403
    assert CCCD not in refused.text
    assert audit_entries(world, "personal.view") == []


def test_alert_queue_page_flags_personal_data_without_showing_it(
    client: TestClient, world: WebWorld
) -> None:
    form_login(client, "duty")
    html = client.get("/alerts").text
    row = re.search(rf'<tr data-finding="{world.ids["leak"]}">(.*?)</tr>', html, re.S)
    assert row and 'data-test="personal"' in row.group(1)
    assert "dữ liệu cá nhân" in row.group(1)
    assert html.count('data-test="personal"') == 1
    assert CCCD not in html


def test_case_detail_api_shows_its_findings_masked(client: TestClient, world: WebWorld) -> None:
    token = api_login(client, "duty")
    opened = client.post(
        "/api/cases",
        json={"finding_ids": [world.ids["leak"]], "playbook": "personal_data_leak"},
        headers={"X-CSRF-Token": token},
    )
    assert opened.status_code == 201, opened.text
    detail = client.get(f"/api/cases/{opened.json()['id']}")
    [finding] = detail.json()["findings"]
    assert finding["evidence"]["personal"] == MASKED
    assert CCCD not in detail.text
