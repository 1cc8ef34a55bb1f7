"""No route answers 500 (issue 9): every route of the app, as every role, with hostile path and
query values; and every page opened after an ingest of each kind of log source."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vigil
from tests.conftest import shared_data
from tests.web_fixtures import PASSWORD, WebWorld, build_world
from vigil.deployment import Deployment
from vigil.monitor.ingest.pipeline import ingest_files

pytestmark = pytest.mark.filterwarnings("ignore:Arrow output on a DB-API result")

#: Values an attacker or a slip of the keyboard puts where an id, a page or a filter goes.
HOSTILE = [
    "99999999999999999999999",
    str(2**63),
    "-1",
    "abc",
    "",
    "１２",  # full-width digits
    "Đà Nẵng<script>/../..",
    "'; DROP TABLE findings; --",
]
#: Routes that end the session under test (they are tested on their own in test_web_sessions).
RAISE = False
SKIP = {"/logout", "/api/logout", "/account/password", "/api/me/password"}
#: One officer of each role the test province has: admin, duty officer of a commune, viewer.
ROLES = ["admin", "c01", "viewer"]


@pytest.fixture
def world(deployment: Deployment) -> WebWorld:
    return build_world(deployment)


def _client(world: WebWorld, username: str) -> tuple[TestClient, str]:
    client = TestClient(world.app, raise_server_exceptions=RAISE)
    response = client.post("/api/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return client, str(response.json()["csrf_token"])


def _query_names() -> list[str]:
    """Every query parameter a route of Vigil declares (unknown ones are ignored by a route)."""
    found: set[str] = set()
    for path in Path(vigil.__file__).parent.rglob("*.py"):
        found.update(QUERY.findall(path.read_text(encoding="utf-8")))
    return sorted(found | {"next", "lang"})


QUERY = re.compile(r"^\s+(\w+): Annotated\[[^\n]*Query\(", re.M)


def _routes(world: WebWorld) -> list[tuple[str, str, list[str]]]:
    """(method, path, query parameter names) of every route of the app."""
    queries = _query_names()
    out = []
    for route in iter_route_contexts(world.app.routes):
        if route.methods is None or route.path in SKIP or route.path is None:
            continue  # the static files
        out.extend((method, route.path, queries) for method in sorted(route.methods))
    assert len(out) > 50
    return out


def _request(
    client: TestClient, csrf: str, method: str, path: str, queries: list[str], value: str
) -> int:
    url = re.sub(r"\{[^}]+\}", lambda _m: quote(value, safe="") or "x", path)
    params = dict.fromkeys(queries, value)
    headers = {"X-CSRF-Token": csrf}
    if method == "GET":
        response = client.get(url, params=params, headers=headers, follow_redirects=False)
    elif path.startswith("/api/"):
        response = client.request(method, url, params=params, headers=headers, json={"x": value})
    else:
        form = {"csrf_token": csrf, "reason": value, "text": value, "owner": value}
        response = client.request(
            method, url, params=params, data=form, headers=headers, follow_redirects=False
        )
    return response.status_code


def test_every_route_with_hostile_values_as_every_role_answers_without_500(
    world: WebWorld,
) -> None:
    failures = []
    for username in ROLES:
        client, csrf = _client(world, username)
        for method, path, queries in _routes(world):
            for value in HOSTILE:
                status = _request(client, csrf, method, path, queries, value)
                if status >= 500:
                    failures.append((username, method, path, value, status))
    assert failures == []


def test_huge_ids_are_refused_before_the_database(world: WebWorld) -> None:
    client, _csrf = _client(world, "admin")
    for path in ("/api/findings/", "/findings/", "/cases/", "/api/cases/", "/monitor/detections/"):
        response = client.get(path + "99999999999999999999999")
        assert response.status_code == 422, (path, response.status_code)
        assert client.get(path + "-5").status_code == 422
        assert client.get(path + str(2**62)).status_code == 404


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_hypothesis_hostile_values_never_500(world: WebWorld, data: st.DataObject) -> None:
    routes = _routes(world)
    method, path, queries = data.draw(st.sampled_from(routes))
    username = data.draw(st.sampled_from(ROLES))
    value = data.draw(
        st.one_of(
            st.integers(min_value=-(2**80), max_value=2**80).map(str),
            st.text(max_size=40),
            st.sampled_from(HOSTILE),
        )
    )
    client, csrf = _client(world, username)
    assert _request(client, csrf, method, path, queries, value) < 500


# --- every page after each kind of source ------------------------------------------------------

SYSLOG = (
    "<38>Jan 31 09:00:01 srv-c01 sshd[411]: Failed password for root from 10.0.0.7 port 22\n"
    '<165>1 2026-01-31T09:01:00+07:00 srv-c01 app 12 ID47 [ex@1 a="b"] hello\n'
)
ACCESS = (
    '10.1.2.3 - - [31/Jan/2026:09:00:00 +0700] "GET /admin/login.php?u=%27 HTTP/1.1" 200 12 '
    '"-" "sqlmap/1.7"\n'
)
JSONL = (
    '{"@timestamp": "2026-01-31T02:00:00Z", "Hostname": "ws-c01", "EventID": 4625, '
    '"Channel": "Security", "EventRecordID": 7, "IpAddress": "10.0.0.9"}\n'
)


def _sources(tmp_path: Path) -> Iterator[Path]:
    for name, text in (("auth.log", SYSLOG), ("access.log", ACCESS), ("sec.jsonl", JSONL)):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        yield path


def test_every_page_opens_after_each_kind_of_source(world: WebWorld, tmp_path: Path) -> None:
    dep = world.deployment
    actor = dep.system("test")
    files = list(_sources(tmp_path))
    evtx = shared_data("evtx", "evtx-to-mitre-attack")
    if evtx.exists():
        files.extend(sorted(evtx.rglob("*Defender*.evtx"))[:2])
    result = ingest_files(dep, actor, files, unit="C01", workers=1)
    assert result.events >= 4
    pages = [path for method, path, _q in _routes(world) if method == "GET" and "{" not in path]
    for username in ("admin", "c01", "viewer"):
        client, _csrf = _client(world, username)
        for path in pages:
            assert client.get(path, follow_redirects=False).status_code < 500, (username, path)
        events = client.get("/monitor/events", params={"host": "srv-c01"})
        assert events.status_code == 200
        assert "srv-c01" in events.text  # the syslog rows are listed (P01 and C01 see C01)
