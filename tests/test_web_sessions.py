"""Sessions that really end, and a login backoff that forged headers do not escape (issue 9).

Each test copies a cookie while it works, ends the session one way, and replays the copy:
`/api/me`, the queue and an acknowledgement with the old CSRF token must all be refused.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.web_fixtures import PASSWORD, WebWorld, api_login, build_world
from vigil.deployment import Deployment
from vigil.store.models import AuditEntry, WebSession
from vigil.web.addresses import client_address, parse_proxies
from vigil.web.app import create_app
from vigil.web.session import COOKIE


@pytest.fixture
def world(deployment: Deployment) -> WebWorld:
    return build_world(deployment)


class Clock:
    """Stands in for the wall clock of session ages (app.state.session_clock)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 8, 0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(world: WebWorld) -> Clock:
    c = Clock()
    world.app.state.session_clock = c
    return c


def logged_in(world: WebWorld, username: str = "duty") -> tuple[TestClient, str, str]:
    """A client logged in as `username`, its CSRF token, and a copy of its cookie."""
    client = TestClient(world.app)
    token = api_login(client, username)
    cookie = client.cookies[COOKIE]
    return client, token, cookie


def replay_refused(world: WebWorld, cookie: str, csrf: str) -> None:
    """The copied cookie opens nothing: who-am-I, the queue, and a write with its CSRF token."""
    with TestClient(world.app) as thief:
        thief.cookies.set(COOKIE, cookie)
        assert thief.get("/api/me").status_code == 401
        assert thief.get("/api/alerts").status_code == 401
        ack = thief.post(
            f"/api/findings/{world.ids['c01_high']}/ack", headers={"X-CSRF-Token": csrf}, json={}
        )
        assert ack.status_code == 401
        page = thief.get("/alerts", follow_redirects=False)
        assert page.status_code == 303
        assert page.headers["location"].startswith("/login")


def replay_works(world: WebWorld, cookie: str) -> None:
    with TestClient(world.app) as copy:
        copy.cookies.set(COOKIE, cookie)
        assert copy.get("/api/me").status_code == 200


def sessions_of(world: WebWorld) -> int:
    with world.deployment.store.reader() as session:
        return int(session.scalar(select(func.count()).select_from(WebSession)) or 0)


def test_a_copied_cookie_works_until_logout_and_never_after(world: WebWorld, clock: Clock) -> None:
    client, csrf, cookie = logged_in(world)
    replay_works(world, cookie)  # the copy is as good as the original while the session lives
    assert sessions_of(world) == 1
    assert client.post("/api/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert sessions_of(world) == 0
    replay_refused(world, cookie, csrf)


def test_logout_from_the_page_ends_the_session_too(world: WebWorld, clock: Clock) -> None:
    client = TestClient(world.app)
    page = client.get("/login")
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/login", data={"username": "duty", "password": PASSWORD, "csrf_token": csrf})
    cookie = client.cookies[COOKIE]
    token = client.get("/alerts").text.split('name="csrf_token" value="')[1].split('"')[0]
    out = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    replay_refused(world, cookie, token)


def test_a_password_change_ends_every_session_and_keeps_the_changer_logged_in(
    world: WebWorld, clock: Clock
) -> None:
    _laptop, _csrf, laptop_cookie = logged_in(world)
    phone, phone_csrf, phone_cookie = logged_in(world)
    changed = phone.post(
        "/api/me/password",
        headers={"X-CSRF-Token": phone_csrf},
        json={"current_password": PASSWORD, "new_password": "a-new-long-passphrase"},
    )
    assert changed.status_code == 200, changed.text
    replay_refused(world, laptop_cookie, _csrf)
    replay_refused(world, phone_cookie, phone_csrf)  # the changer's old cookie too
    assert phone.get("/api/me").json()["username"] == "duty"  # through the new session
    assert sessions_of(world) == 1
    wrong = phone.post(
        "/api/me/password",
        headers={"X-CSRF-Token": changed.json()["csrf_token"]},
        json={"current_password": "not-the-password", "new_password": "another-long-one"},
    )
    assert wrong.status_code == 422
    assert wrong.json()["error"]["message"] == "the current password is wrong"


def test_the_password_page_changes_it_and_the_old_cookie_is_dead(
    world: WebWorld, clock: Clock
) -> None:
    client, _csrf, cookie = logged_in(world)
    page = client.get("/account")
    assert page.status_code == 200
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    done = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": "a-new-long-passphrase",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    replay_refused(world, cookie, token)
    assert "Đã đổi mật khẩu" in client.get("/account").text


def test_disabling_an_account_ends_its_sessions_at_once(world: WebWorld, clock: Clock) -> None:
    _duty, duty_csrf, duty_cookie = logged_in(world, "duty")
    admin, admin_csrf, _ = logged_in(world, "admin")
    response = admin.post("/api/users/duty/disable", headers={"X-CSRF-Token": admin_csrf})
    assert response.json() == {"username": "duty", "sessions_ended": 1}
    replay_refused(world, duty_cookie, duty_csrf)
    refused = TestClient(world.app).post(
        "/api/login", json={"username": "duty", "password": PASSWORD}
    )
    assert refused.status_code == 401
    admin.post("/api/users/duty/enable", headers={"X-CSRF-Token": admin_csrf})
    replay_refused(world, duty_cookie, duty_csrf)  # enabling again does not revive the old one
    logged_in(world, "duty")
    with world.deployment.store.reader() as session:
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert "user.disable" in actions and "user.enable" in actions


def test_an_admin_ends_all_sessions_of_a_user_from_the_page(world: WebWorld, clock: Clock) -> None:
    _a, csrf_a, cookie_a = logged_in(world, "c01")
    _b, csrf_b, cookie_b = logged_in(world, "c01")
    admin, _admin_csrf, _ = logged_in(world, "admin")
    token = admin.get("/users").text.split('name="csrf_token" value="')[1].split('"')[0]
    done = admin.post("/users/c01/end-sessions", data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
    assert "Đã kết thúc 2 phiên đăng nhập của c01" in admin.get("/users").text
    replay_refused(world, cookie_a, csrf_a)
    replay_refused(world, cookie_b, csrf_b)
    # A commune officer is not an admin: the API refuses, and names no unit.
    c02, c02_csrf, _ = logged_in(world, "c02")
    assert (
        c02.post("/api/users/c01/end-sessions", headers={"X-CSRF-Token": c02_csrf}).status_code
        == 403
    )


def test_an_idle_session_ends_and_an_active_one_ends_at_its_lifetime(
    world: WebWorld, clock: Clock
) -> None:
    settings = world.deployment.settings
    idle = timedelta(minutes=settings.session_idle_minutes)
    _c, csrf, cookie = logged_in(world)
    clock.now += idle - timedelta(seconds=5)
    replay_works(world, cookie)  # used just in time: last_seen moves on
    clock.now += idle - timedelta(seconds=5)
    replay_works(world, cookie)
    clock.now += idle + timedelta(seconds=1)
    replay_refused(world, cookie, csrf)

    _c, csrf, cookie = logged_in(world)
    lifetime = timedelta(hours=settings.session_hours)
    start = clock.now
    while clock.now - start < lifetime - idle:
        clock.now += idle / 2
        replay_works(world, cookie)
    clock.now = start + lifetime + timedelta(seconds=1)
    replay_refused(world, cookie, csrf)


def test_a_forged_forwarded_header_does_not_escape_the_backoff(world: WebWorld) -> None:
    with TestClient(world.app) as client:
        codes = [
            client.post(
                "/api/login",
                json={"username": "duty", "password": "wrong-password"},
                headers={"X-Forwarded-For": f"203.0.113.{n}"},
            ).status_code
            for n in range(8)
        ]
    assert codes[:5] == [401] * 5
    assert 429 in codes[5:]
    with world.deployment.store.reader() as session:
        ips = set(
            session.scalars(select(AuditEntry.ip).where(AuditEntry.action == "auth.login_failed"))
        )
    assert ips == {"testclient"}  # the peer, not the forged addresses


def test_a_password_spray_one_try_per_account_is_throttled_by_address(
    world: WebWorld,
) -> None:
    from vigil.web.auth import FREE_ADDRESS_FAILURES

    with TestClient(world.app) as client:
        codes = [
            client.post(
                "/api/login", json={"username": f"user{n}", "password": "Summer2026!"}
            ).status_code
            for n in range(FREE_ADDRESS_FAILURES + 2)
        ]
    assert codes[: FREE_ADDRESS_FAILURES - 1] == [401] * (FREE_ADDRESS_FAILURES - 1)
    assert codes[-1] == 429
    # The real officer's account was never tried: from another address it logs in.
    throttle = world.app.state.login_throttle
    throttle.check("duty", "198.51.100.7")


def test_forwarded_addresses_count_only_from_trusted_proxies(deployment: Deployment) -> None:
    proxies = parse_proxies(["10.0.0.0/8", "192.0.2.1"])
    assert client_address("198.51.100.9", "203.0.113.5", proxies) == "198.51.100.9"
    assert client_address("10.1.2.3", "203.0.113.5", proxies) == "203.0.113.5"
    # A client cannot hide behind a forged first hop: the nearest untrusted one counts.
    assert client_address("10.1.2.3", "1.2.3.4, 203.0.113.5, 192.0.2.1", proxies) == "203.0.113.5"
    assert client_address("10.1.2.3", "not-an-ip", proxies) == "10.1.2.3"
    assert client_address("10.1.2.3", None, proxies) == "10.1.2.3"
    assert client_address("10.1.2.3", "203.0.113.5", ()) == "10.1.2.3"

    build_world(deployment)
    settings = deployment.settings.model_copy(
        update={"trusted_proxies": ["testclient", "127.0.0.1"]}
    )
    with pytest.raises(Exception, match="trusted_proxies"):
        create_app(settings, deployment)
    settings = deployment.settings.model_copy(update={"trusted_proxies": ["127.0.0.1"]})
    app = create_app(settings, deployment)
    assert app.state.trusted_proxies == parse_proxies(["127.0.0.1"])
