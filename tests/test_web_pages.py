"""Server-rendered pages: form login, CSRF, redirects, escaping, permissions, language."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import APIRouter
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient

from tests.web_fixtures import PASSWORD, WebWorld, build_world
from vigil.deployment import Deployment
from vigil.plugins import NavItem, hookimpl, plugin_manager
from vigil.store.models import FindingRow, User
from vigil.web.app import create_app
from vigil.web.deps import Triager, Viewer

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def world(deployment: Deployment) -> WebWorld:
    return build_world(deployment)


@pytest.fixture
def client(world: WebWorld) -> Iterator[TestClient]:
    with TestClient(world.app, follow_redirects=False) as c:
        yield c


def token_of(html: str) -> str:
    match = TOKEN.search(html)
    assert match, "no CSRF field in the page"
    return match.group(1)


def form_login(client: TestClient, username: str, password: str = PASSWORD, next: str = "/") -> str:
    """Log in through the form; returns the CSRF token of the new session."""
    token = token_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": next},
    )
    assert response.status_code == 303, response.text
    return token_of(client.get("/").text)


def test_pages_redirect_to_login_and_back(client: TestClient) -> None:
    response = client.get("/alerts?severity=high")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/alerts%3Fseverity%3Dhigh"
    login_page = client.get(response.headers["location"])
    assert 'name="next" value="/alerts?severity=high"' in login_page.text
    token = token_of(login_page.text)
    done = client.post(
        "/login",
        data={
            "username": "duty",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/alerts?severity=high",
        },
    )
    assert done.headers["location"] == "/alerts?severity=high"


def test_login_form_refuses_offsite_next_and_missing_token(client: TestClient) -> None:
    token = token_of(client.get("/login").text)
    no_token = client.post("/login", data={"username": "duty", "password": PASSWORD})
    assert no_token.status_code == 403
    assert "csrf" in no_token.text
    done = client.post(
        "/login",
        data={
            "username": "duty",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/x",
        },
    )
    assert done.headers["location"] == "/"


def test_login_form_failure_shows_the_message_in_vietnamese(client: TestClient) -> None:
    token = token_of(client.get("/login").text)
    response = client.post(
        "/login", data={"username": "duty", "password": "nope-nope-nope", "csrf_token": token}
    )
    assert response.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu." in response.text
    assert 'value="duty"' in response.text


def test_dashboard_shows_phase_counts_and_readiness(client: TestClient, world: WebWorld) -> None:
    form_login(client, "duty")
    html = client.get("/").text
    assert "<h1>Tình hình" in html
    assert 'data-test="alert-total">4<' in html
    assert 'data-test="count-critical">1<' in html
    assert 'data-test="count-high">2<' in html
    assert 'data-test="count-medium">1<' in html
    assert "trước bầu cử" in html  # the phase, translated
    assert "<svg" in html and "Phát hiện mới theo ngày" in html
    # Readiness rows: the province, departments and communes; the commune police of C01 rolls up
    # into C01 (2 alerts of its own + 1 of its police). Units with work waiting come first, the
    # most loaded on top; the quiet ones are folded.
    rows = re.findall(
        r'data-unit="([^"]+)">\s*<td[^>]*>.*?</td>\s*<td class="num">(\d+)</td>', html, re.S
    )
    assert rows == [("C01", "3"), ("C02", "1"), ("P01", "0"), ("D01", "0")]
    quiet = html[html.index('data-test="quiet-units"') :]
    assert "2 đơn vị không có việc tồn đọng</summary>" in quiet
    assert re.findall(r'data-unit="([^"]+)"', quiet) == ["P01", "D01"]
    # What to do next: the most urgent alerts, worst first, with their tactic and capability.
    nxt = html[
        html.index('data-panel="cases.next-actions"') : html.index('data-panel="cases.reports"')
    ]
    assert re.findall(r'<li data-finding="(\d+)"', nxt) == [
        str(world.ids[k]) for k in ("c01pol_critical", "c01_high", "c02_high", "c01_medium")
    ]
    assert "Bản sao bóng bị xoá" in nxt and 'data-test="next-overdue"' not in nxt


def test_dashboard_puts_an_overdue_case_and_its_unit_on_top(
    client: TestClient, world: WebWorld
) -> None:
    from datetime import timedelta

    from tests.conftest import BEFORE
    from vigil.cases.triage import escalate

    dep = world.deployment
    with dep.store.session() as session:  # high in 'before' is due 8 hours after opening
        late = escalate(
            session,
            dep.system(),
            [world.ids["c02_high"]],
            dep.policy(),
            BEFORE - 20 * timedelta(hours=1),
        )
        late_id = late.id
    form_login(client, "duty")
    html = client.get("/").text
    nxt = html[
        html.index('data-panel="cases.next-actions"') : html.index('data-panel="cases.reports"')
    ]
    assert re.findall(r'<li data-case="(\d+)"', nxt) == [str(late_id)]
    assert "VV-2026-0001" in nxt and "quá hạn" in nxt
    assert str(world.ids["c02_high"]) not in re.findall(r'<li data-finding="(\d+)"', nxt)
    busy = html[html.index('data-test="busy-units"') : html.index('data-test="quiet-units"')]
    assert re.findall(r'data-unit="([^"]+)"', busy) == ["C02", "C01"]  # late before loaded


def test_viewer_sees_no_triage_buttons_and_a_forged_post_is_refused(
    client: TestClient, world: WebWorld
) -> None:
    token = form_login(client, "viewer")
    html = client.get("/alerts").text
    assert 'action="/alerts/escalate"' not in html
    assert "/ack" not in html
    fid = world.ids["c01_high"]
    response = client.post(f"/findings/{fid}/ack", data={"csrf_token": token})
    assert response.status_code == 403
    assert "Không được phép" in response.text
    with world.deployment.store.reader() as session:
        row = session.get(FindingRow, fid)
        assert row is not None and row.status == "new"
    assert client.get("/audit").status_code == 403
    assert client.get("/users").status_code == 403


def test_form_post_without_token_is_refused(client: TestClient, world: WebWorld) -> None:
    form_login(client, "duty")
    response = client.post(f"/findings/{world.ids['c01_high']}/ack", data={})
    assert response.status_code == 403
    assert "csrf" in response.text


def test_triage_through_the_pages(client: TestClient, world: WebWorld) -> None:
    ids = world.ids
    token = form_login(client, "duty")
    ack = client.post(
        f"/findings/{ids['c01_medium']}/ack", data={"csrf_token": token, "next": "/alerts"}
    )
    assert (ack.status_code, ack.headers["location"]) == (303, "/alerts")
    assert f"Đã tiếp nhận cảnh báo #{ids['c01_medium']}." in client.get("/alerts").text
    fp = client.post(
        f"/findings/{ids['c02_high']}/false-positive",
        data={"csrf_token": token, "reason": "the commune's own test domain"},
    )
    assert fp.status_code == 303
    esc = client.post(
        "/alerts/escalate",
        data={"csrf_token": token, "finding_ids": [ids["c01_high"]], "playbook": "malware_host"},
    )
    assert esc.status_code == 303
    case_url = esc.headers["location"]
    assert re.fullmatch(r"/cases/\d+", case_url)
    case_page = client.get(case_url).text
    assert "VV-2026-0001" in case_page
    assert "Ngắt kết nối mạng của máy tính" in case_page  # step 1 of the playbook, in Vietnamese
    done = client.post(f"{case_url}/steps/1/done", data={"csrf_token": token, "note": "đã cách ly"})
    assert done.status_code == 303
    assert "đã cách ly" in client.get(case_url).text
    with world.deployment.store.reader() as session:
        statuses = {
            key: session.get(FindingRow, ids[key]).status  # type: ignore[union-attr]
            for key in ("c01_medium", "c02_high", "c01_high")
        }
    assert statuses == {
        "c01_medium": "acknowledged",
        "c02_high": "false_positive",
        "c01_high": "escalated",
    }


def test_merge_through_the_page_keeps_the_oldest(client: TestClient, world: WebWorld) -> None:
    ids = world.ids
    token = form_login(client, "c01")
    response = client.post(
        "/alerts/merge",
        data={"csrf_token": token, "finding_ids": [ids["c01_medium"], ids["c01_high"]]},
    )
    assert response.status_code == 303
    oldest, newest = sorted([ids["c01_medium"], ids["c01_high"]])
    with world.deployment.store.reader() as session:
        row = session.get(FindingRow, newest)
        assert row is not None and (row.status, row.merged_into) == ("merged", oldest)
    one = client.post("/alerts/merge", data={"csrf_token": token, "finding_ids": [oldest]})
    # Refused inside the queue, in the officer's language, not on an error page in its place.
    assert (one.status_code, one.headers["location"]) == (303, "/alerts")
    assert "Hãy chọn ít nhất hai cảnh báo để gộp." in client.get("/alerts").text


def test_finding_evidence_is_escaped(client: TestClient, world: WebWorld) -> None:
    form_login(client, "duty")
    html = client.get(f"/findings/{world.ids['c01_high']}").text
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "PC-HOAAN-01" in html


def test_commune_officer_gets_the_not_found_page_for_other_commune(
    client: TestClient, world: WebWorld
) -> None:
    form_login(client, "c02")
    other = client.get(f"/findings/{world.ids['c01_high']}")
    missing = client.get("/findings/999999")
    assert (other.status_code, missing.status_code) == (404, 404)  # no way to enumerate ids
    assert "PC-HOAAN" not in other.text
    alerts = client.get("/alerts").text
    assert "Tên miền giả mạo cổng thông tin xã" in alerts
    assert "Mã độc trên máy tính của xã" not in alerts


def test_language_switch_is_stored_and_audited(client: TestClient, world: WebWorld) -> None:
    token = form_login(client, "duty")
    assert "Hàng đợi cảnh báo" in client.get("/alerts").text
    switched = client.post("/lang", data={"csrf_token": token, "lang": "en", "next": "/alerts"})
    assert (switched.status_code, switched.headers["location"]) == (303, "/alerts")
    english = client.get("/alerts").text
    assert "<h1>Alert queue</h1>" in english and 'lang="en"' in english
    with world.deployment.store.reader() as session:
        user = session.query(User).filter_by(username="duty").one()
        assert user.lang == "en"
    client.post("/lang", data={"csrf_token": token, "lang": "vi", "next": "/"})
    assert "Tổng quan" in client.get("/").text
    bad = client.post("/lang", data={"csrf_token": token, "lang": "fr"})
    assert bad.status_code == 422
    client.post("/logout", data={"csrf_token": token})
    admin_token = form_login(client, "admin")
    assert admin_token
    audit = client.get("/audit", params={"action": "user.lang"}).text
    assert audit.count("<code>user.lang</code>") == 2
    assert "&#34;to&#34;: &#34;en&#34;" in audit or '"to": "en"' in audit.replace("&#34;", '"')


def test_admin_adds_a_user_and_sees_the_audit_log(client: TestClient, world: WebWorld) -> None:
    token = form_login(client, "admin")
    added = client.post(
        "/users",
        data={
            "csrf_token": token,
            "username": "c02.lead",
            "password": "another-long-password",
            "role": "duty_officer",
            "unit": "C02",
            "full_name": "Đỗ Văn <b>Ba</b>",
            "lang": "en",
        },
    )
    assert added.status_code == 303
    users = client.get("/users").text
    assert "Đỗ Văn &lt;b&gt;Ba&lt;/b&gt;" in users
    short = client.post(
        "/users",
        data={
            "csrf_token": token,
            "username": "x",
            "password": "short",
            "role": "viewer",
            "unit": "C02",
        },
    )
    assert short.status_code == 422
    log = client.get("/audit", params={"action": "user.create"}).text
    assert "user:c02.lead" in log
    # The new officer can log in with the password the admin set.
    client.post("/logout", data={"csrf_token": token})
    page_token = token_of(client.get("/login").text)
    ok = client.post(
        "/login",
        data={
            "username": "c02.lead",
            "password": "another-long-password",
            "csrf_token": page_token,
        },
    )
    assert ok.status_code == 303


def test_logout_requires_the_token_and_ends_the_session(client: TestClient) -> None:
    token = form_login(client, "duty")
    assert client.post("/logout", data={}).status_code == 403
    assert client.get("/").status_code == 200
    assert client.post("/logout", data={"csrf_token": token}).headers["location"] == "/login"
    assert client.get("/").status_code == 303


def test_security_headers(client: TestClient) -> None:
    response = client.get("/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "cdn" not in response.text.lower()


def test_other_pages_render(client: TestClient, world: WebWorld) -> None:
    form_login(client, "duty")
    for path, marker in [
        ("/cases", "<h1>Vụ việc</h1>"),
        ("/duty", "Lịch trực"),
        ("/units", "Công an xã Hòa An"),
        ("/api/docs", "/api/alerts"),
        (f"/findings/{world.ids['c02_high']}", "bau-cu-phuloc.vn"),
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert marker in response.text, path
    missing = client.get("/cases/9999")
    assert missing.status_code == 404 and "Không tìm thấy" in missing.text


def test_duty_page_adds_a_shift_in_local_time(client: TestClient, world: WebWorld) -> None:
    token = form_login(client, "duty")
    response = client.post(
        "/duty/shifts",
        data={
            "csrf_token": token,
            "unit": "P01",
            "username": "duty",
            "starts": "2026-02-01T07:00",
            "ends": "2026-02-01T19:00",
            "role_on_shift": "lead",
        },
    )
    assert response.status_code == 303, response.text
    html = client.get("/duty?unit=P01&days=1").text
    assert "2026-02-01 07:00" in html and "2026-02-01 19:00" in html
    # The rest of the local day is uncovered: 00:00-07:00 and 19:00-24:00.
    assert html.count('<tr class="gap">') == 2


def test_a_form_posted_without_a_session_goes_to_the_login(
    client: TestClient, world: WebWorld
) -> None:
    response = client.post(f"/findings/{world.ids['c01_high']}/ack", data={"csrf_token": "stale"})
    assert (response.status_code, response.headers["location"]) == (303, "/login")
    api = client.post(f"/api/findings/{world.ids['c01_high']}/ack", json={})
    assert api.status_code == 401
    assert api.json()["error"]["code"] == "unauthenticated"


def test_plugins_add_routers_and_menu_entries(deployment: Deployment) -> None:
    router = APIRouter()

    @router.get("/extra")
    def extra(user: Viewer) -> PlainTextResponse:
        return PlainTextResponse(f"extra for {user.actor.username}")

    @router.post("/extra")
    def extra_write(user: Triager) -> PlainTextResponse:
        return PlainTextResponse("written")

    class ExtraPlugin:
        @hookimpl
        def vigil_routers(self) -> list[APIRouter]:
            return [router]

        @hookimpl
        def vigil_nav(self) -> list[NavItem]:
            return [
                NavItem("/extra", "Extra page"),
                NavItem("/secret", "Secret", "no-such-permission"),
            ]

    build_world(deployment)
    pm = plugin_manager()
    plugin = ExtraPlugin()
    pm.register(plugin, name="test-extra")
    try:
        app = create_app(deployment.settings, deployment)
    finally:
        pm.unregister(plugin)
    with TestClient(app, follow_redirects=False) as c:
        assert c.get("/extra").status_code == 303  # behind the login like every page
        token = form_login(c, "duty")
        assert c.get("/extra").text == "extra for duty"
        menu = c.get("/").text
        assert 'href="/extra"' in menu and 'href="/secret"' not in menu
        assert c.post("/extra").status_code == 403  # the CSRF check covers plugin routes too
        assert c.post("/extra", headers={"X-CSRF-Token": token}).text == "written"
