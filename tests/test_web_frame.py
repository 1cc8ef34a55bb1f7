"""The frame: routes, menu and dashboard come from the rooms' hooks; it works without rooms."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pluggy
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

import vigil.cases.plugin
from tests.web_fixtures import PASSWORD, build_world
from vigil.deployment import Deployment
from vigil.plugins import DashboardPanel, VigilSpec, hookimpl, plugin_manager
from vigil.web.app import create_app

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')

#: Every route of the app before the duty room's pages moved out of web/ (method, path).
ROUTES_BEFORE = [
    ("GET", "/"),
    ("GET", "/account"),
    ("GET", "/alerts"),
    ("GET", "/api/alerts"),
    ("GET", "/api/audit"),
    ("GET", "/api/cases"),
    ("GET", "/api/cases/{case_id}"),
    ("GET", "/api/docs"),
    ("GET", "/api/duty/gaps"),
    ("GET", "/api/duty/roster"),
    ("GET", "/api/findings/{finding_id}"),
    ("GET", "/api/me"),
    ("GET", "/api/openapi.json"),
    ("GET", "/alerts/escalate"),
    ("GET", "/api/units"),
    ("GET", "/audit"),
    ("GET", "/cases"),
    ("GET", "/cases/{case_id}"),
    ("GET", "/duty"),
    ("GET", "/duty/handover"),
    ("GET", "/findings/{finding_id}"),
    ("GET", "/findings/{finding_id}/reveal"),
    ("GET", "/healthz"),
    ("GET", "/login"),
    ("GET", "/monitor/coverage"),
    ("GET", "/monitor/detections"),
    ("GET", "/monitor/detections/{finding_id}"),
    ("GET", "/monitor/events"),
    ("GET", "/monitor/sensors"),
    ("GET", "/units"),
    ("GET", "/users"),
    ("MOUNT", "/static"),
    ("POST", "/account/password"),
    ("POST", "/alerts/escalate"),
    ("POST", "/alerts/merge"),
    ("POST", "/api/cases"),
    ("POST", "/api/cases/{case_id}/assign"),
    ("POST", "/api/cases/{case_id}/close"),
    ("POST", "/api/cases/{case_id}/notes"),
    ("POST", "/api/cases/{case_id}/steps/{position}/done"),
    ("POST", "/api/cases/{case_id}/steps/{position}/not-applicable"),
    ("POST", "/api/duty/shifts"),
    ("POST", "/api/findings/merge"),
    ("POST", "/api/findings/{finding_id}/ack"),
    ("POST", "/api/findings/{finding_id}/false-positive"),
    ("POST", "/api/findings/{finding_id}/reveal"),
    ("POST", "/api/login"),
    ("POST", "/api/logout"),
    ("POST", "/api/me/password"),
    ("POST", "/api/users/{username}/disable"),
    ("POST", "/api/users/{username}/enable"),
    ("POST", "/api/users/{username}/end-sessions"),
    ("POST", "/cases/{case_id}/assign"),
    ("POST", "/cases/{case_id}/close"),
    ("POST", "/cases/{case_id}/notes"),
    ("POST", "/cases/{case_id}/status"),
    ("POST", "/cases/{case_id}/steps/{position}/done"),
    ("POST", "/cases/{case_id}/steps/{position}/not-applicable"),
    ("POST", "/duty/handover/notes"),
    ("POST", "/duty/shifts"),
    ("POST", "/findings/{finding_id}/ack"),
    ("POST", "/findings/{finding_id}/false-positive"),
    ("POST", "/findings/{finding_id}/reveal"),
    ("POST", "/lang"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("POST", "/reports/daily"),
    ("POST", "/reports/handover"),
    ("POST", "/users"),
    ("POST", "/users/{username}/active"),
    ("POST", "/users/{username}/end-sessions"),
]
CANDIDATE_ROUTES = [
    ("GET", "/candidates"),
    ("GET", "/candidates/{candidate_id}"),
    ("GET", "/candidates/{candidate_id}/reveal"),
    ("POST", "/candidates/{candidate_id}/reveal"),
    ("POST", "/reports/candidates"),
]
ROUTES_BEFORE += CANDIDATE_ROUTES
INFOWATCH_ROUTES = [
    ("GET", "/infowatch/advisories"),
    ("GET", "/infowatch/advisories/new"),
    ("GET", "/infowatch/advisories/{advisory_id}"),
    ("GET", "/infowatch/campaigns"),
    ("GET", "/infowatch/campaigns/{finding_id}"),
    ("GET", "/infowatch/claims"),
    ("GET", "/infowatch/impersonation"),
    ("GET", "/infowatch/posts"),
    ("GET", "/infowatch/watchlist"),
    ("GET", "/public/{path:path}"),
    ("POST", "/infowatch/advisories"),
    ("POST", "/infowatch/advisories/{advisory_id}/approve"),
    ("POST", "/infowatch/watchlist"),
]
ROUTES_BEFORE += INFOWATCH_ROUTES
REGISTRY_ROUTES = [
    ("GET", "/registry"),
    ("GET", "/registry/communes/{commune}"),
    ("GET", "/registry/duplicates"),
    ("GET", "/registry/households"),
    ("POST", "/registry/duplicates/decide"),
    ("POST", "/registry/households/review"),
    ("POST", "/reports/registry"),
    ("GET", "/registry/voters"),
    ("POST", "/registry/voters/build"),
    ("GET", "/registry/voters/{commune}"),
    ("POST", "/registry/voters/{commune}/reveal"),
    ("GET", "/registry/voters/{commune}/export"),
    ("POST", "/registry/voters/{commune}/export"),
]
ROUTES_BEFORE += REGISTRY_ROUTES
INSPECT_ROUTES = [
    ("GET", "/inspect"),
    ("POST", "/inspect/plan"),
    ("GET", "/inspect/remediation"),
    ("POST", "/inspect/remediation/{item_id}/done"),
    ("GET", "/inspect/{inspection_id}"),
    ("POST", "/inspect/{inspection_id}/answers"),
    ("POST", "/inspect/{inspection_id}/close"),
]
ROUTES_BEFORE += INSPECT_ROUTES
MONITOR_ROUTES = [r for r in ROUTES_BEFORE if r[1].startswith("/monitor/")]
FRAME_ROUTES = [
    ("GET", "/"),
    ("GET", "/account"),
    ("GET", "/api/audit"),
    ("GET", "/api/docs"),
    ("GET", "/api/me"),
    ("GET", "/api/openapi.json"),
    ("GET", "/api/units"),
    ("GET", "/audit"),
    ("GET", "/healthz"),
    ("GET", "/login"),
    ("GET", "/units"),
    ("GET", "/users"),
    ("MOUNT", "/static"),
    ("POST", "/account/password"),
    ("POST", "/api/login"),
    ("POST", "/api/logout"),
    ("POST", "/api/me/password"),
    ("POST", "/api/users/{username}/disable"),
    ("POST", "/api/users/{username}/enable"),
    ("POST", "/api/users/{username}/end-sessions"),
    ("POST", "/lang"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("POST", "/users"),
    ("POST", "/users/{username}/active"),
    ("POST", "/users/{username}/end-sessions"),
]


def routes(app: FastAPI) -> list[tuple[str, str]]:
    out = []
    for route in iter_route_contexts(app.routes):
        assert route.path is not None
        if route.methods is None:  # a mounted app: the static files
            out.append(("MOUNT", route.path))
        else:
            out.extend((method, route.path) for method in route.methods)
    return sorted(out)


def rooms(*plugins: object) -> pluggy.PluginManager:
    """A plugin manager holding only the given rooms (none: the bare frame)."""
    pm = pluggy.PluginManager("vigil")
    pm.add_hookspecs(VigilSpec)
    for plugin in plugins:
        pm.register(plugin)
    return pm


def login(client: TestClient, username: str) -> None:
    token = TOKEN.search(client.get("/login").text)
    assert token
    done = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)},
    )
    assert done.status_code == 303, done.text


def menu(html: str) -> list[str]:
    nav = re.search(r'<nav class="sidebar".*?</nav>', html, re.S)
    assert nav
    return re.findall(r'<li><a href="([^"]+)"', nav.group(0))


def test_the_installed_rooms_give_the_routes_there_were(deployment: Deployment) -> None:
    assert routes(build_world(deployment).app) == sorted(ROUTES_BEFORE)


def test_the_duty_room_brings_its_routes_and_the_frame_its_own(deployment: Deployment) -> None:
    build_world(deployment)
    duty_room = create_app(deployment.settings, deployment, rooms(vigil.cases.plugin))
    assert routes(duty_room) == sorted(
        set(ROUTES_BEFORE)
        - set(MONITOR_ROUTES)
        - set(CANDIDATE_ROUTES)
        - set(INFOWATCH_ROUTES)
        - set(REGISTRY_ROUTES)
        - set(INSPECT_ROUTES)
    )
    bare = create_app(deployment.settings, deployment, rooms())
    assert routes(bare) == FRAME_ROUTES


def test_menu_keeps_its_order_and_hides_admin_pages(deployment: Deployment) -> None:
    world = build_world(deployment)
    rooms_pages = ["/alerts", "/cases", "/duty", "/duty/handover"]
    monitor_pages = [
        "/candidates",
        "/infowatch/posts",
        "/infowatch/advisories",
        "/inspect",
        "/inspect/remediation",
        "/monitor/events",
        "/monitor/detections",
        "/monitor/coverage",
        "/monitor/sensors",
        "/registry",
        "/registry/duplicates",
        "/registry/voters",
    ]
    with TestClient(world.app, follow_redirects=False) as client:
        login(client, "admin")
        assert menu(client.get("/units").text) == [
            "/",
            *rooms_pages,
            *monitor_pages,
            "/units",
            "/audit",
            "/users",
        ]
    with TestClient(world.app, follow_redirects=False) as client:
        login(client, "duty")
        assert menu(client.get("/units").text) == ["/", *rooms_pages, *monitor_pages, "/units"]


def test_the_frame_alone_shows_a_dashboard(deployment: Deployment) -> None:
    build_world(deployment)
    app = create_app(deployment.settings, deployment, rooms())
    with TestClient(app, follow_redirects=False) as client:
        assert client.get("/").headers["location"] == "/login?next=/"
        login(client, "admin")
        page = client.get("/")
        assert page.status_code == 200
        assert "<h1>Tình hình" in page.text
        assert "Chưa có phân hệ nào đưa nội dung lên trang Tổng quan." in page.text
        assert 'data-test="phase-ends"' in page.text
        assert menu(page.text) == ["/", "/units", "/audit", "/users"]
        assert client.get("/alerts").status_code == 404
        assert client.get("/api/me").json()["username"] == "admin"


class PanelsPlugin:
    """Panels of a room under test: one for admins, one for an unknown permission, two broken."""

    def __init__(self, templates: Path) -> None:
        self.templates = templates

    @hookimpl
    def vigil_templates(self) -> list[Path]:
        return [self.templates]

    @hookimpl
    def vigil_dashboard(self) -> list[DashboardPanel]:
        return [
            DashboardPanel("test.admin", "test_panel.html", _admin_context, 5, "admin"),
            DashboardPanel("test.unknown", "test_panel.html", _admin_context, 5, "no-such-one"),
            DashboardPanel("test.raises", "test_panel.html", _raises, 15),
            DashboardPanel("test.no-template", "no_such_panel.html", _admin_context, 60),
        ]


def _admin_context(request: Any, user: Any) -> Mapping[str, Any]:
    return {"text": f"for {user.actor.username} <b>"}


def _raises(request: Any, user: Any) -> Mapping[str, Any]:
    raise RuntimeError("the room's store is gone")


@pytest.fixture
def panels_app(deployment: Deployment, tmp_path: Path) -> Iterator[FastAPI]:
    (tmp_path / "test_panel.html").write_text(
        '<section class="card" data-panel="test">{{ _("Situation") }}: {{ text }}</section>',
        encoding="utf-8",
    )
    build_world(deployment)
    pm = plugin_manager()
    plugin = PanelsPlugin(tmp_path)
    pm.register(plugin, name="test-panels")
    try:
        yield create_app(deployment.settings, deployment)
    finally:
        pm.unregister(plugin)


def test_dashboard_panels_by_permission_and_order(panels_app: FastAPI) -> None:
    with TestClient(panels_app, follow_redirects=False) as client:
        login(client, "admin")
        html = client.get("/").text
        # The admin's panel (order 5) before the duty room's first (10, 11); rendered with the
        # page's language and escaped; the unknown permission's panel is left out.
        shown = re.findall(r'data-panel="([^"]+)"', html)
        assert shown[:4] == ["test", "cases.open-alerts", "cases.next-actions", "test.raises"]
        assert html.count('data-panel="test"') == 1
        assert "Tình hình: for admin &lt;b&gt;" in html
    with TestClient(panels_app, follow_redirects=False) as client:
        login(client, "duty")
        html = client.get("/").text
        assert 'data-panel="test"' not in html
        assert 'data-test="alert-total">4<' in html


def test_a_failing_panel_is_a_box_naming_it_and_the_rest_still_shows(
    panels_app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    with TestClient(panels_app, follow_redirects=False) as client:
        login(client, "duty")
        with caplog.at_level(logging.ERROR, logger="vigil.web.dashboard"):
            page = client.get("/")
    assert page.status_code == 200
    boxes = re.findall(r'class="card panel-error" role="alert" data-panel="([^"]+)"', page.text)
    assert boxes == ["test.raises", "test.no-template"]
    assert "Không hiển thị được khối test.raises" in page.text
    assert "the room's store is gone" not in page.text  # the detail stays in the log
    assert [r.getMessage() for r in caplog.records] == [
        "dashboard panel test.raises failed",
        "dashboard panel test.no-template failed",
    ]
    failure = caplog.records[0].exc_info
    assert failure is not None and str(failure[1]) == "the room's store is gone"
    # Every panel of the duty room is still there, after and around the broken ones.
    assert 'data-test="alert-total">4<' in page.text
    for key in (
        "cases.next-actions",
        "cases.reports",
        "cases.trend",
        "cases.open-cases",
        "cases.readiness",
    ):
        assert f'data-panel="{key}"' in page.text
