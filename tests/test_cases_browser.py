"""The case flow in a real browser (Debian's chromium through Playwright, a live uvicorn): escalate
from the queue, the case carries its playbook, the owner is picked from the list, closing is
refused while a step is open, then every open step is marked not applicable and the case closes."""

from __future__ import annotations

import re

import pytest

from tests.test_web_browser import log_in, page, server, world  # noqa: F401 (fixtures)
from tests.web_fixtures import WebWorld
from vigil.cases.playbooks import load_playbooks

pytestmark = pytest.mark.browser

from playwright.sync_api import Page, expect  # noqa: E402


def test_escalate_work_and_close_a_case(page: Page, world: WebWorld) -> None:  # noqa: F811
    pg = page
    ids = world.ids
    steps = load_playbooks()["malware_host"].steps
    log_in(pg, "duty")
    pg.on("dialog", lambda dialog: dialog.accept())  # the "close this case?" confirmation

    # "Suggested for the alert": the dropper's rule points at the malware playbook.
    pg.goto("/alerts")
    pg.check(f"input[name=finding_ids][value='{ids['c01_high']}']")
    pg.click("[data-test=escalate]")
    pg.wait_for_url(re.compile(r".*/cases/\d+$"))
    expect(pg.locator(".flash-ok")).to_have_text("Đã mở vụ việc VV-2026-0001.")
    expect(pg.locator("[data-test=steps] > li")).to_have_count(len(steps))
    expect(pg.locator("h2", has_text="Các bước")).to_contain_text(f"0/{len(steps)}")
    expect(pg.locator("main")).to_contain_text(load_playbooks()["malware_host"].title_vi)
    case_url = pg.url

    # Step 7 (reinstall) comes after step 2 (collect the evidence): shown waiting, no button.
    seventh = pg.locator("[data-step='7']")
    expect(seventh.locator("[data-test=after]")).to_have_text("Sau bước 2")
    expect(seventh.locator("[data-test=waiting]")).to_contain_text("Chờ hoàn thành bước 2")
    expect(seventh.locator("[data-test=step-done]")).to_have_count(0)

    # The owner is one of the unit's case officers, picked from the list.
    owners = pg.locator("select[data-test=owner] option")
    expect(owners).to_have_count(3)  # admin, c01, duty: those who work cases and see C01
    pg.select_option("select[data-test=owner]", "c01")
    pg.click("form[action$='/assign'] button[type=submit]")
    expect(pg.locator(".flash-ok")).to_have_text("Đã giao vụ việc cho c01.")
    expect(pg.locator("dl.facts")).to_contain_text("c01")

    # Closing with open steps is refused inside the case page, in Vietnamese.
    expect(pg.locator("[data-test=open-steps]")).to_contain_text("1, 2, 3, 4, 5, 6, 7, 8")
    pg.fill("textarea[name=summary]", "Đã gỡ mã độc")
    pg.click("form[action$='/close'] button[type=submit]")
    expect(pg.locator(".flash-error")).to_have_text(
        "Vụ việc VV-2026-0001 còn bước chưa xong (1, 2, 3, 4, 5, 6, 7, 8): hãy thực hiện từng "
        "bước hoặc đánh dấu không áp dụng kèm lý do trước khi đóng"
    )
    assert pg.url == case_url
    expect(pg.locator("[data-test=case-status]")).to_have_text("đang mở")

    # Step 1 done; each other step marked not applicable, with its reason.
    pg.locator("[data-step='1'] [data-test=step-done]").click()
    expect(pg.locator(".flash-ok")).to_have_text("Đã hoàn thành bước 1.")
    for position in range(2, len(steps) + 1):
        step = pg.locator(f"[data-step='{position}']")
        step.locator("details.na summary").click()
        step.locator("[data-test=na-reason]").fill(f"không áp dụng cho máy này ({position})")
        step.locator("[data-test=step-na-submit]").click()
        expect(pg.locator(".flash-ok")).to_have_text(f"Đã đánh dấu bước {position} không áp dụng.")
    expect(pg.locator("[data-step='7'] [data-test=step-na]")).to_contain_text(
        "Không áp dụng: không áp dụng cho máy này (7)"
    )
    expect(pg.locator("[data-test=open-steps]")).to_have_count(0)

    pg.fill("textarea[name=summary]", "Đã gỡ mã độc")
    pg.click("form[action$='/close'] button[type=submit]")
    expect(pg.locator(".flash-ok")).to_have_text("Đã đóng vụ việc.")
    expect(pg.locator("[data-test=case-status]")).to_have_text("đã đóng")


def test_escalation_asks_for_a_playbook_when_none_fits(page: Page, world: WebWorld) -> None:  # noqa: F811
    pg = page
    low = world.ids["d01_low"]  # an inspection finding: no playbook fits it
    log_in(pg, "duty")
    pg.goto(f"/findings/{low}")  # below the phase's threshold: not in the queue, on its page
    pg.click("[data-test=escalate]")
    pg.wait_for_url(re.compile(r".*/alerts/escalate\?finding_ids=\d+$"))
    expect(pg.locator(".flash-error")).to_have_text(
        "Không có kịch bản xử lý nào phù hợp với các cảnh báo đã chọn: hãy chọn một kịch bản "
        "trong danh sách"
    )
    expect(pg.locator("main table")).to_contain_text("Bản sao lưu quá hạn")
    pg.select_option("select[data-test=playbook]", "ransomware_voter_list")
    expect(pg.locator("select[data-test=owner]")).to_have_value("duty")
    pg.click("[data-test=escalate-form] [data-test=escalate]")
    pg.wait_for_url(re.compile(r".*/cases/\d+$"))
    expect(pg.locator("[data-test=steps] > li")).to_have_count(
        len(load_playbooks()["ransomware_voter_list"].steps)
    )
    expect(pg.locator("dl.facts")).to_contain_text("duty")
