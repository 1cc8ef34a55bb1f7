"""The JSON API: login, CSRF, roles, unit scope, triage, cases, audit trail, error shape."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from tests.web_fixtures import PASSWORD, WebWorld, api_login, build_world
from vigil.cases.playbooks import load_playbooks
from vigil.deployment import Deployment
from vigil.store.models import FindingRow


@pytest.fixture
def world(deployment: Deployment) -> WebWorld:
    return build_world(deployment)


@pytest.fixture
def client(world: WebWorld) -> Iterator[TestClient]:
    with world.client() as c:
        yield c


def status_of(world: WebWorld, key: str) -> str:
    with world.deployment.store.reader() as session:
        row = session.get(FindingRow, world.ids[key])
        assert row is not None
        return row.status


def audit_entries(client: TestClient, **params: str) -> list[dict[str, object]]:
    response = client.get("/api/audit", params=params)
    assert response.status_code == 200, response.text
    entries = response.json()["entries"]
    assert isinstance(entries, list)
    return entries


# --- login -------------------------------------------------------------------------------------


def test_login_sets_an_httponly_lax_cookie_and_returns_the_csrf_token(client: TestClient) -> None:
    response = client.post("/api/login", json={"username": "duty", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert len(body["csrf_token"]) >= 32
    assert body["user"] == {
        "username": "duty",
        "full_name": "Trần Văn Trực",
        "role": "duty_officer",
        "unit": "P01",
        "lang": "vi",
        "permissions": ["manage_cases", "manage_duty", "triage", "view"],
    }
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("vigil_session=")
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower()  # the test deployment has cookie_secure=False
    assert "Max-Age=43200" in cookie  # settings.session_hours = 12
    assert client.get("/api/me").json()["username"] == "duty"


def test_cookie_is_secure_when_settings_ask_for_it(deployment: Deployment) -> None:
    from vigil.web.app import create_app

    build_world(deployment)
    settings = deployment.settings.model_copy(update={"cookie_secure": True, "session_hours": 1.0})
    with TestClient(create_app(settings, deployment), base_url="https://testserver") as c:
        response = c.post("/api/login", json={"username": "duty", "password": PASSWORD})
    cookie = response.headers["set-cookie"].lower()
    assert "; secure" in cookie
    assert "max-age=3600" in cookie


def test_bad_password_is_refused_with_the_error_shape_and_audited(client: TestClient) -> None:
    response = client.post("/api/login", json={"username": "duty", "password": "wrong-password!"})
    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "code": "unauthenticated",
            "message": "wrong username or password",
            "location": None,
        }
    }
    assert client.get("/api/me").status_code == 401
    api_login(client, "admin")
    failed = audit_entries(client, action="auth.login_failed")
    assert [(e["actor"], e["target"], e["ip"]) for e in failed] == [
        ("anonymous", "user:duty", "testclient")
    ]
    ok = audit_entries(client, action="auth.login")
    assert [(e["actor"], e["ip"]) for e in ok] == [("admin", "testclient")]


def test_repeated_failures_lock_the_username_from_that_address(client: TestClient) -> None:
    for _ in range(5):
        bad = client.post("/api/login", json={"username": "c01", "password": "not-the-password"})
        assert bad.status_code == 401
    # Now even the right password waits: the lock is per username and address, not per guess.
    locked = client.post("/api/login", json={"username": "c01", "password": PASSWORD})
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "rate_limited"
    assert int(locked.headers["Retry-After"]) >= 1
    # Another username from the same address is not affected.
    assert (
        client.post("/api/login", json={"username": "c02", "password": PASSWORD}).status_code == 200
    )


def test_login_rotates_the_session_and_logout_ends_it(client: TestClient) -> None:
    client.get("/login")  # an anonymous session with a CSRF token for the form
    before_cookie = client.cookies.get("vigil_session")
    assert before_cookie
    token = api_login(client, "duty")
    assert client.cookies.get("vigil_session") != before_cookie
    assert client.post("/api/logout", headers={"X-CSRF-Token": token}).status_code == 204
    assert client.get("/api/me").status_code == 401
    assert client.get("/api/alerts").json()["error"]["code"] == "unauthenticated"


def test_json_login_needs_a_json_body(client: TestClient) -> None:
    response = client.post(
        "/api/login",
        content=f'{{"username": "duty", "password": "{PASSWORD}"}}',
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid"


def test_every_api_route_but_login_needs_a_session(client: TestClient, world: WebWorld) -> None:
    for path in [
        "/api/me",
        "/api/alerts",
        f"/api/findings/{world.ids['c01_high']}",
        "/api/cases",
        "/api/units",
        "/api/duty/roster",
        "/api/openapi.json",
        "/api/docs",
    ]:
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.json() == {
            "error": {"code": "unauthenticated", "message": "login required", "location": None}
        }
    assert client.get("/healthz").text == "ok"


# --- CSRF and roles ----------------------------------------------------------------------------


def test_write_without_csrf_token_is_refused(client: TestClient, world: WebWorld) -> None:
    api_login(client, "duty")
    fid = world.ids["c01_high"]
    missing = client.post(f"/api/findings/{fid}/ack", json={"note": "on it"})
    assert missing.status_code == 403
    assert missing.json() == {
        "error": {"code": "csrf", "message": "missing CSRF token", "location": None}
    }
    wrong = client.post(f"/api/findings/{fid}/ack", json={}, headers={"X-CSRF-Token": "forged"})
    assert wrong.status_code == 403
    assert wrong.json()["error"] == {
        "code": "csrf",
        "message": "CSRF token does not match the session",
        "location": None,
    }
    assert status_of(world, "c01_high") == "new"


def test_viewer_may_read_but_not_write(client: TestClient, world: WebWorld) -> None:
    token = api_login(client, "viewer")
    fid = world.ids["c01_high"]
    assert client.get(f"/api/findings/{fid}").json()["status"] == "new"
    refused = client.post(f"/api/findings/{fid}/ack", json={}, headers={"X-CSRF-Token": token})
    assert refused.status_code == 403
    assert refused.json() == {
        "error": {"code": "forbidden", "message": "role viewer may not triage", "location": None}
    }
    esc = client.post("/api/cases", json={"finding_ids": [fid]}, headers={"X-CSRF-Token": token})
    assert esc.status_code == 403
    assert status_of(world, "c01_high") == "new"
    with world.deployment.store.reader() as session:
        row = session.get(FindingRow, fid)
        assert row is not None and row.case_id is None and row.status_reason == ""
    client.post("/api/logout", headers={"X-CSRF-Token": token})
    api_login(client, "admin")
    assert audit_entries(client, action="finding.") == []


def test_commune_officers_see_only_their_own_units(client: TestClient, world: WebWorld) -> None:
    ids = world.ids
    token = api_login(client, "c02")
    seen = [a["id"] for a in client.get("/api/alerts").json()["items"]]
    assert seen == [ids["c02_high"]]
    # Outside the officer's units a finding is absent, word for word as one that does not exist:
    # neither its existence nor its unit shows.
    for key in ("c01_high", "c01pol_critical"):
        response = client.get(f"/api/findings/{ids[key]}")
        assert response.status_code == 404
        assert response.json() == {
            "error": {"code": "not_found", "message": f"no finding {ids[key]}", "location": None}
        }
    absent = client.get("/api/findings/999999").json()["error"]
    assert absent == {"code": "not_found", "message": "no finding 999999", "location": None}
    ack = client.post(
        f"/api/findings/{ids['c01_high']}/ack", json={}, headers={"X-CSRF-Token": token}
    )
    assert ack.status_code == 404
    assert status_of(world, "c01_high") == "new"
    client.post("/api/logout", headers={"X-CSRF-Token": token})

    api_login(client, "c01")
    page = client.get("/api/alerts").json()
    # C01 sees its own alerts and those of the commune police under it, worst first.
    assert [a["id"] for a in page["items"]] == [
        ids["c01pol_critical"],
        ids["c01_high"],
        ids["c01_medium"],
    ]
    assert page["total"] == 3 and page["threshold"] == "medium" and page["phase"] == "before"
    assert client.get(f"/api/findings/{ids['c02_high']}").status_code == 404
    assert client.get("/api/alerts", params={"unit": "C02"}).status_code == 403


def test_alert_filters(client: TestClient, world: WebWorld) -> None:
    ids = world.ids
    api_login(client, "duty")
    everything = client.get("/api/alerts").json()
    # The low finding of D01 is under the 'before' phase's threshold (medium): not an alert.
    assert [a["id"] for a in everything["items"]] == [
        ids["c01pol_critical"],
        ids["c01_high"],
        ids["c02_high"],
        ids["c01_medium"],
    ]
    high = client.get("/api/alerts", params={"severity": "high"}).json()
    assert [a["id"] for a in high["items"]] == [
        ids["c01pol_critical"],
        ids["c01_high"],
        ids["c02_high"],
    ]
    info = client.get("/api/alerts", params={"capability": "infowatch"}).json()
    assert [a["id"] for a in info["items"]] == [ids["c02_high"]]
    paged = client.get("/api/alerts", params={"per_page": 2, "page": 2}).json()
    assert [a["id"] for a in paged["items"]] == [ids["c02_high"], ids["c01_medium"]]
    assert paged["total"] == 4


# --- triage, cases, audit ----------------------------------------------------------------------


def test_duty_officer_acknowledges_and_escalates_and_the_audit_log_says_so(
    client: TestClient, world: WebWorld
) -> None:
    ids = world.ids
    token = api_login(client, "duty")
    headers = {"X-CSRF-Token": token}
    ack = client.post(
        f"/api/findings/{ids['c01_medium']}/ack", json={"note": "checking"}, headers=headers
    )
    assert ack.status_code == 200
    assert ack.json()["status"] == "acknowledged"
    again = client.post(f"/api/findings/{ids['c01_medium']}/ack", json={}, headers=headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"

    created = client.post(
        "/api/cases",
        json={"finding_ids": [ids["c01_high"]], "playbook": "malware_host"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    case = created.json()
    assert case["number"] == "VV-2026-0001"
    assert (case["unit"], case["severity"], case["status"], case["playbook"]) == (
        "C01",
        "high",
        "open",
        "malware_host",
    )
    # 'before' phase: high severity is due within 8 hours of the deployment clock.
    assert case["due_at"] == "2026-02-01T11:00:00"
    detail = client.get(f"/api/cases/{case['id']}").json()
    steps = load_playbooks()["malware_host"].steps
    assert [s["title_en"] for s in detail["steps"]] == [s.title_en for s in steps]
    assert [f["id"] for f in detail["findings"]] == [ids["c01_high"]]
    assert detail["findings"][0]["status"] == "escalated"
    # The escalating officer owns the case (issue 9).
    assert detail["case"]["owner"] == "duty" if "case" in detail else detail["owner"] == "duty"
    assert [e["kind"] for e in detail["timeline"]] == ["opened", "assigned", "escalated"]
    client.post("/api/logout", headers=headers)

    api_login(client, "admin")
    acks = audit_entries(client, action="finding.ack")
    assert len(acks) == 1
    assert (
        acks[0]["actor"],
        acks[0]["role"],
        acks[0]["ip"],
        acks[0]["target"],
        acks[0]["unit"],
    ) == ("duty", "duty_officer", "testclient", f"finding:{ids['c01_medium']}", "C01")
    assert acks[0]["detail"] == {"note": "checking"}
    escalations = audit_entries(client, action="finding.escalate")
    assert len(escalations) == 1
    assert (escalations[0]["actor"], escalations[0]["ip"], escalations[0]["target"]) == (
        "duty",
        "testclient",
        "case:VV-2026-0001",
    )
    assert escalations[0]["detail"]["findings"] == [ids["c01_high"]]
    for entry in (acks[0], escalations[0]):
        datetime.fromisoformat(str(entry["at"]))  # a real timestamp, UTC
    by_duty = {e["action"] for e in audit_entries(client, actor="duty")}
    assert by_duty == {"auth.login", "auth.logout", "finding.ack", "finding.escalate"}


def test_case_work_over_the_api(client: TestClient, world: WebWorld) -> None:
    ids = world.ids
    headers = {"X-CSRF-Token": api_login(client, "duty")}
    case = client.post(
        "/api/cases",
        json={"finding_ids": [ids["c01pol_critical"], ids["c01_high"]]},
        headers=headers,
    ).json()
    # No playbook given: the worst finding's rule suggests the ransomware playbook.
    assert case["playbook"] == "ransomware_voter_list"
    assert case["severity"] == "critical" and case["unit"] == "C01"
    cid = case["id"]
    step = client.post(f"/api/cases/{cid}/steps/1/done", json={"note": "isolated"}, headers=headers)
    assert step.status_code == 200
    assert (step.json()["done_by"], step.json()["note"]) == ("duty", "isolated")
    assert (
        client.post(f"/api/cases/{cid}/steps/1/done", json={}, headers=headers).status_code == 409
    )
    assert (
        client.post(f"/api/cases/{cid}/steps/99/done", json={}, headers=headers).status_code == 404
    )
    note = client.post(f"/api/cases/{cid}/notes", json={"text": "Gọi cho xã"}, headers=headers)
    assert note.status_code == 201 and note.json()["text"] == "Gọi cho xã"
    assigned = client.post(f"/api/cases/{cid}/assign", json={"owner": "c01"}, headers=headers)
    assert assigned.json()["owner"] == "c01"
    bad_owner = client.post(f"/api/cases/{cid}/assign", json={"owner": "c02"}, headers=headers)
    assert bad_owner.status_code == 403  # c02 does not see unit C01
    refused = client.post(f"/api/cases/{cid}/close", json={"summary": "Early."}, headers=headers)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "conflict")
    assert "still has open steps (2, 3, 4, 5, 6, 7, 8, 9)" in refused.json()["error"]["message"]
    waiting = client.post(f"/api/cases/{cid}/steps/7/done", json={}, headers=headers)
    assert waiting.status_code == 409  # step 7 comes after step 6
    assert waiting.json()["error"]["message"].startswith("step 7 waits for step 6")
    no_reason = client.post(
        f"/api/cases/{cid}/steps/2/not-applicable", json={"reason": ""}, headers=headers
    )
    assert no_reason.status_code == 422
    for position in range(2, 10):
        na = client.post(
            f"/api/cases/{cid}/steps/{position}/not-applicable",
            json={"reason": "no backup server at this commune"},
            headers=headers,
        )
        assert na.status_code == 200, na.text
    assert (na.json()["after"], na.json()["not_applicable"]) == (
        [],
        "no backup server at this commune",
    )
    closed = client.post(f"/api/cases/{cid}/close", json={"summary": "Contained."}, headers=headers)
    assert closed.json()["status"] == "closed"
    detail = client.get(f"/api/cases/{cid}").json()
    assert [e["kind"] for e in detail["timeline"]] == [
        "opened",
        "assigned",
        "escalated",
        "escalated",
        "status",
        "step_done",
        "note",
        "assigned",
        *["step_na"] * 8,
        "closed",
    ]
    assert [s["after"] for s in detail["steps"]][5:7] == [[3, 5], [6]]
    assert {f["status"] for f in detail["findings"]} == {"resolved"}
    listed = client.get("/api/cases", params={"status": "closed"}).json()
    assert [c["number"] for c in listed] == [case["number"]]
    assert client.get("/api/cases", params={"status": "active"}).json() == []


def test_escalating_what_no_playbook_fits_asks_for_one(client: TestClient, world: WebWorld) -> None:
    headers = {"X-CSRF-Token": api_login(client, "duty")}
    body = {"finding_ids": [world.ids["d01_low"]]}  # an inspection finding: no playbook fits
    asked = client.post("/api/cases", json=body, headers=headers)
    assert (asked.status_code, asked.json()["error"]["code"]) == (422, "playbook_needed")
    assert client.get("/api/cases").json() == [] and status_of(world, "d01_low") == "new"
    chosen = client.post(
        "/api/cases", json={**body, "playbook": "malware_host"}, headers=headers
    ).json()
    assert (chosen["playbook"], chosen["owner"]) == ("malware_host", "duty")
    steps = client.get(f"/api/cases/{chosen['id']}").json()["steps"]
    assert len(steps) == 8


def test_merge_folds_findings_into_the_target(client: TestClient, world: WebWorld) -> None:
    ids = world.ids
    headers = {"X-CSRF-Token": api_login(client, "c01")}
    merged = client.post(
        "/api/findings/merge",
        json={"target_id": ids["c01_high"], "other_ids": [ids["c01_medium"]]},
        headers=headers,
    )
    assert merged.status_code == 200
    assert merged.json()["count"] == 2
    assert status_of(world, "c01_medium") == "merged"
    foreign = client.post(
        "/api/findings/merge",
        json={"target_id": ids["c01_high"], "other_ids": [ids["c02_high"]]},
        headers=headers,
    )
    assert foreign.status_code == 404
    assert status_of(world, "c02_high") == "new"


def test_duty_roster_and_gaps(client: TestClient, world: WebWorld) -> None:
    headers = {"X-CSRF-Token": api_login(client, "duty")}
    shift = {
        "unit": "P01",
        "username": "duty",
        "starts": "2026-02-01T03:00:00",
        "ends": "2026-02-01T15:00:00",
        "role_on_shift": "lead",
    }
    created = client.post("/api/duty/shifts", json=shift, headers=headers)
    assert created.status_code == 201, created.text
    roster = client.get(
        "/api/duty/roster", params={"start": "2026-02-01T00:00:00", "end": "2026-02-02T00:00:00"}
    )
    assert [(s["username"], s["role_on_shift"]) for s in roster.json()] == [("duty", "lead")]
    gaps = client.get(
        "/api/duty/gaps",
        params={"unit": "P01", "start": "2026-02-01T00:00:00", "end": "2026-02-02T00:00:00"},
    ).json()
    assert gaps == [
        {"start": "2026-02-01T00:00:00", "end": "2026-02-01T03:00:00", "hours": 3.0},
        {"start": "2026-02-01T15:00:00", "end": "2026-02-02T00:00:00", "hours": 9.0},
    ]
    clash = client.post("/api/duty/shifts", json=shift, headers=headers)
    assert clash.status_code == 409


def test_audit_api_is_for_admins_only(client: TestClient) -> None:
    api_login(client, "duty")
    response = client.get("/api/audit")
    assert response.status_code == 403
    assert response.json() == {
        "error": {
            "code": "forbidden",
            "message": "role duty_officer may not admin",
            "location": None,
        }
    }


def test_units_in_tree_order(client: TestClient) -> None:
    api_login(client, "viewer")
    units = client.get("/api/units").json()
    assert [(u["code"], u["depth"]) for u in units] == [
        ("P01", 0),
        ("D01", 1),
        ("C01", 1),
        ("C01-POL", 2),
        ("C02", 1),
    ]
    assert units[2]["name_vi"] == "Xã Hòa An"


# --- OpenAPI and the error shape ---------------------------------------------------------------


def test_openapi_lists_the_routes(client: TestClient) -> None:
    api_login(client, "viewer")
    schema = client.get("/api/openapi.json").json()
    paths = schema["paths"]
    expected = {
        "/api/login": {"post"},
        "/api/logout": {"post"},
        "/api/me": {"get"},
        "/api/me/password": {"post"},
        "/api/users/{username}/disable": {"post"},
        "/api/users/{username}/enable": {"post"},
        "/api/users/{username}/end-sessions": {"post"},
        "/api/alerts": {"get"},
        "/api/findings/{finding_id}": {"get"},
        "/api/findings/{finding_id}/ack": {"post"},
        "/api/findings/{finding_id}/false-positive": {"post"},
        "/api/findings/{finding_id}/reveal": {"post"},
        "/api/findings/merge": {"post"},
        "/api/cases": {"get", "post"},
        "/api/cases/{case_id}": {"get"},
        "/api/cases/{case_id}/steps/{position}/done": {"post"},
        "/api/cases/{case_id}/steps/{position}/not-applicable": {"post"},
        "/api/cases/{case_id}/notes": {"post"},
        "/api/cases/{case_id}/assign": {"post"},
        "/api/cases/{case_id}/close": {"post"},
        "/api/duty/roster": {"get"},
        "/api/duty/gaps": {"get"},
        "/api/duty/shifts": {"post"},
        "/api/units": {"get"},
        "/api/audit": {"get"},
    }
    assert {p: set(ops) for p, ops in paths.items()} == expected  # pages stay out of the schema
    alerts = paths["/api/alerts"]["get"]
    assert {p["name"] for p in alerts["parameters"]} == {
        "unit",
        "capability",
        "severity",
        "status",
        "page",
        "per_page",
    }
    assert alerts["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "AlertPageOut"
    )
    assert alerts["responses"]["403"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "ErrorBody"
    )
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert "/api/cases/{case_id}/close" in docs.text
    assert "cdn" not in docs.text.lower()


def test_error_shape_is_the_same_everywhere(client: TestClient) -> None:
    api_login(client, "duty")
    assert client.get("/api/findings/999999").json() == {
        "error": {"code": "not_found", "message": "no finding 999999", "location": None}
    }
    assert client.get("/api/cases/424242").json() == {
        "error": {"code": "not_found", "message": "no case 424242", "location": None}
    }
    invalid = client.get("/api/alerts", params={"page": 0})
    assert invalid.status_code == 422
    assert invalid.json() == {
        "error": {
            "code": "invalid",
            "message": "query.page: Input should be greater than or equal to 1",
            "location": "query.page",
        }
    }
    sev = client.get("/api/alerts", params={"severity": "apocalyptic"})
    assert sev.status_code == 422
    assert sev.json() == {
        "error": {"code": "invalid", "message": "unknown severity 'apocalyptic'", "location": None}
    }
    unknown = client.get("/api/nothing-here")
    assert unknown.status_code == 404
    assert unknown.json() == {
        "error": {"code": "not_found", "message": "Not Found", "location": None}
    }
    wrong_method = client.delete("/api/me")
    assert wrong_method.status_code in (
        403,
        405,
    )  # DELETE is unsafe: the CSRF check may answer first
    assert set(wrong_method.json()["error"]) == {"code", "message", "location"}


def test_login_backoff_doubles_up_to_the_cap() -> None:
    from vigil.web.auth import MAX_WAIT_SECONDS, LoginThrottle
    from vigil.web.errors import LoginThrottled

    throttle = LoginThrottle()
    waits = [throttle.failed("Duty", "10.0.0.1", now=1000.0) for _ in range(16)]
    assert waits[:4] == [0, 0, 0, 0]
    assert waits[4:9] == [1, 2, 4, 8, 16]
    assert waits[-1] == MAX_WAIT_SECONDS
    with pytest.raises(LoginThrottled) as locked:
        throttle.check(" duty ", "10.0.0.1", now=1000.0 + MAX_WAIT_SECONDS - 1)
    assert locked.value.retry_after == 2
    throttle.check("duty", "10.0.0.1", now=1000.0 + MAX_WAIT_SECONDS)  # the wait is over
    with pytest.raises(LoginThrottled):  # the account is locked from any address
        throttle.check("duty", "10.0.0.2", now=1000.0)
    throttle.check("viewer", "10.0.0.3", now=1000.0)  # another account from another address
    throttle.succeeded("duty", "10.0.0.1")
    assert throttle.failed("duty", "10.0.0.1", now=2000.0) == 0
