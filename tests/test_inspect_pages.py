"""The inspection pages: plan, answer through the checklist form (CSRF), close, scorecards and
remediation; roles and unit scope."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.web_fixtures import PASSWORD, WebWorld, api_login, build_world
from vigil.deployment import Deployment
from vigil.inspect.controls.catalog import builtin_catalog
from vigil.store.users import create_user


@pytest.fixture
def world(deployment: Deployment) -> WebWorld:
    world = build_world(deployment)
    with deployment.store.session() as session:
        create_user(
            session, deployment.units, "insp", PASSWORD, "inspector", "P01", "Thanh Tra", lang="en"
        )
    return world


def _client(world: WebWorld, username: str) -> tuple[TestClient, str]:
    client = TestClient(world.app, follow_redirects=False)
    return client, api_login(client, username)


def test_plan_answer_close_and_track(world: WebWorld) -> None:
    client, token = _client(world, "insp")
    planned = client.post(
        "/inspect/plan",
        data={"unit": "C01-POL", "profile": "commune-population-office", "csrf_token": token},
    )
    assert planned.status_code == 303
    path = planned.headers["location"]
    page = client.get(path).text
    assert page.count("<tr data-control=") == 20
    controls = builtin_catalog().profile("commune-population-office").controls
    form = {f"status-{c}": "pass" for c in controls} | {
        "status-DAT-1": "fail",
        "note-DAT-1": "no offline copy",
    }
    no_token = client.post(f"{path}/answers", data=form)
    assert no_token.status_code == 403
    saved = client.post(f"{path}/answers", data=form | {"csrf_token": token})
    assert saved.status_code == 303
    page = client.get(path).text
    assert re.search(
        r'data-test="score">.*?<strong>95\.0</strong>.*?<strong>0 / 2</strong>', page, re.S
    )
    closed = client.post(f"{path}/close", data={"owner": "Trưởng CA xã", "csrf_token": token})
    assert closed.status_code == 303
    remediation = client.get("/inspect/remediation").text
    assert "DAT-1" in remediation and "Trưởng CA xã" in remediation
    scorecards = client.get("/inspect").text
    assert re.search(r'<tr data-unit="C01-POL">.*?95\.0.*?DAT-1', scorecards, re.S)


def test_roles_and_scope(world: WebWorld) -> None:
    client, token = _client(world, "insp")
    client.post(
        "/inspect/plan",
        data={"unit": "C01-POL", "profile": "commune-population-office", "csrf_token": token},
    )
    viewer, vtoken = _client(world, "viewer")
    refused = viewer.post(
        "/inspect/plan",
        data={"unit": "C01-POL", "profile": "commune-population-office", "csrf_token": vtoken},
    )
    assert refused.status_code == 403
    assert 'data-test="plan"' not in viewer.get("/inspect").text
    c02, _t = _client(world, "c02")
    assert c02.get("/inspect/1").status_code == 403
    assert "<tr data-inspection=" not in c02.get("/inspect").text
