"""Errors of the duty room's forms (issue 9, item 10): each refused action comes back to the page
it was sent from with the reason flashed in the officer's language, never an error page with
developer text in its place."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape

import pytest
from fastapi.testclient import TestClient

from tests.test_web_pages import form_login
from tests.web_fixtures import WebWorld, build_world
from vigil.deployment import Deployment


@pytest.fixture
def world(deployment: Deployment) -> WebWorld:
    return build_world(deployment)


@pytest.fixture
def client(world: WebWorld) -> Iterator[TestClient]:
    with TestClient(world.app, follow_redirects=False) as c:
        yield c


def flashed(client: TestClient, response_location: str) -> list[str]:
    html = client.get(response_location).text
    found = re.findall(r'<div class="flash flash-error" role="status">([^<]*)</div>', html)
    return [unescape(text) for text in found]


def test_refusals_are_said_inside_the_page_in_vietnamese(
    client: TestClient, world: WebWorld
) -> None:
    ids = world.ids
    token = form_login(client, "duty")

    def post(url: str, **data: object) -> tuple[str, list[str]]:
        response = client.post(url, data={"csrf_token": token, **data})
        assert response.status_code == 303, (url, response.status_code, response.text[:300])
        location = response.headers["location"]
        return location, flashed(client, location)

    # The queue: a false positive without a reason, an alert acknowledged twice.
    assert post(f"/findings/{ids['c01_high']}/false-positive", reason=" ") == (
        "/alerts",
        ["Cần nêu lý do khi đánh dấu cảnh báo nhầm"],
    )
    post(f"/findings/{ids['c01_high']}/ack")
    assert post(f"/findings/{ids['c01_high']}/ack", next="/findings/1") == (
        "/findings/1",
        [f"Cảnh báo #{ids['c01_high']} đã được xác nhận tiếp nhận"],
    )
    # A case: an empty note, an empty summary, a step waiting, a closed case worked on.
    created = client.post(
        "/alerts/escalate",
        data={"csrf_token": token, "finding_ids": [ids["c01_high"]], "playbook": "malware_host"},
    )
    case = created.headers["location"]
    assert post(f"{case}/notes", text="  ") == (case, ["Nội dung ghi chú không được để trống"])
    assert post(f"{case}/close", summary="") == (case, ["Cần nhập tóm tắt trước khi đóng vụ việc"])
    assert post(f"{case}/steps/4/done") == (
        case,
        [
            "Bước 4 phải chờ bước 3: hãy thực hiện bước đó trước hoặc đánh dấu không áp dụng",
        ],
    )
    assert post(f"{case}/steps/3/not-applicable", reason="") == (
        case,
        ["Cần nêu lý do bước này không áp dụng"],
    )
    assert post(f"{case}/assign", owner="ghost") == (
        case,
        ["Không có người dùng đang hoạt động 'ghost'"],
    )
    # An escalation of an alert already in a case.
    assert post("/alerts/escalate", finding_ids=[ids["c01_high"]], next="/alerts") == (
        "/alerts",
        [
            f"Cảnh báo #{ids['c01_high']} đang ở trạng thái «đã chuyển vụ việc», "
            "không thể chuyển thành vụ việc"
        ],
    )
    # The roster and the handover.
    location, errors = post(
        "/duty/shifts", unit="P01", username="duty", starts="mai 7 giờ", ends="2026-02-01 15:00"
    )
    assert (location, errors) == (
        "/duty?unit=P01",
        ["starts: không phải ngày giờ hợp lệ: 'mai 7 giờ' (nhập theo dạng 2026-03-14 07:00)"],
    )
    assert post("/duty/handover/notes", text="") == (
        "/duty/handover",
        ["Nội dung ghi chú giao ca không được để trống"],
    )
    # Filters typed in the address: back to the plain list, said there.
    for url, back in (("/alerts?status=nope", "/alerts"), ("/cases?status=nope", "/cases")):
        response = client.get(url)
        assert (response.status_code, response.headers["location"]) == (303, back)
        assert len(flashed(client, back)) == 1
    bad_period = client.get("/duty/handover?start=hôm+qua")
    assert (bad_period.status_code, bad_period.headers["location"]) == (303, "/duty/handover")
