"""The pages in a real browser: Debian's chromium driven by Playwright against a live uvicorn."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import serve_in_thread
from tests.web_fixtures import PASSWORD, WebWorld, build_world
from vigil.deployment import Deployment

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT = Path("/tmp/vigil-dashboard.png")

if not CHROMIUM.exists():
    pytest.skip(
        f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)",
        allow_module_level=True,
    )
pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402


@pytest.fixture
def world(deployment: Deployment) -> WebWorld:
    return build_world(deployment)


@pytest.fixture
def server(world: WebWorld) -> Iterator[str]:
    assert world.deployment.settings.demo and not world.deployment.settings.cookie_secure
    with serve_in_thread(world.app) as url:
        yield url


@pytest.fixture
def page(server: str) -> Iterator[Page]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 900}, base_url=server)
        pg = context.new_page()
        problems: list[str] = []
        pg.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        pg.on("pageerror", lambda e: problems.append(str(e)))
        yield pg
        # A CSP violation or a script error shows up here.
        assert problems == []
        browser.close()


def log_in(pg: Page, username: str) -> None:
    pg.goto("/login")
    pg.fill("input[name=username]", username)
    pg.fill("input[name=password]", PASSWORD)
    pg.click("form[action='/login'] button[type=submit]")
    pg.wait_for_url(re.compile(r".*/$"))


def test_duty_officer_triages_and_admin_audits(page: Page, world: WebWorld) -> None:
    pg = page
    ids = world.ids
    log_in(pg, "duty")
    expect(pg.locator("h1")).to_contain_text("Tình hình")
    expect(pg.locator("[data-test=alert-total]")).to_have_text("4")
    expect(pg.locator("[data-test=count-critical]")).to_have_text("1")

    pg.click("nav.sidebar >> text=Cảnh báo")
    pg.wait_for_url("**/alerts")
    expect(pg.locator("table.alerts tbody tr")).to_have_count(4)

    medium = pg.locator(f"tr[data-finding='{ids['c01_medium']}']")
    medium.locator("[data-test=ack]").click()
    expect(pg.locator(".flash-ok")).to_have_text(f"Đã tiếp nhận cảnh báo #{ids['c01_medium']}.")
    expect(medium.locator(".pill")).to_have_text("đã tiếp nhận")

    escalate = pg.locator("[data-test=escalate]")
    expect(escalate).to_be_disabled()  # nothing selected yet
    pg.check(f"input[name=finding_ids][value='{ids['c01_high']}']")
    expect(escalate).to_be_enabled()
    pg.select_option("select[name=playbook]", "malware_host")
    escalate.click()
    pg.wait_for_url(re.compile(r".*/cases/\d+$"))
    expect(pg.locator("[data-test=case-number]")).to_have_text("VV-2026-0001")
    from vigil.cases.playbooks import load_playbooks

    steps = load_playbooks()["malware_host"].steps
    step_items = pg.locator("[data-test=steps] > li")
    expect(step_items).to_have_count(len(steps))
    expect(step_items.first).to_contain_text(steps[0].title_vi)

    # Back on the dashboard the escalated alert has left the open count and the case is listed.
    pg.click("nav.sidebar >> text=Tổng quan")
    expect(pg.locator("[data-test=alert-total]")).to_have_text("3")
    expect(pg.locator("main")).to_contain_text("VV-2026-0001")
    pg.screenshot(path=str(SCREENSHOT), full_page=True)

    pg.click("[data-test=logout]")
    pg.wait_for_url("**/login")

    log_in(pg, "admin")
    pg.goto("/audit?actor=duty")
    rows = pg.locator("table.audit tbody tr")
    ack_row = rows.filter(has_text="finding.ack")
    expect(ack_row).to_have_count(1)
    expect(ack_row).to_contain_text(f"finding:{ids['c01_medium']}")
    expect(ack_row).to_contain_text("127.0.0.1")
    esc_row = rows.filter(has_text="finding.escalate")
    expect(esc_row).to_have_count(1)
    expect(esc_row).to_contain_text("case:VV-2026-0001")
    expect(esc_row.locator("td").nth(1)).to_have_text("duty")


def test_language_switch_between_english_and_vietnamese(page: Page) -> None:
    pg = page
    log_in(pg, "admin")
    pg.goto("/audit")
    expect(pg.locator("h1")).to_have_text("Nhật ký kiểm toán")
    pg.click("form.lang-switch button[value=en]")
    expect(pg.locator("h1")).to_have_text("Audit log")
    expect(pg.locator("html")).to_have_attribute("lang", "en")
    pg.click("form.lang-switch button[value=vi]")
    expect(pg.locator("h1")).to_have_text("Nhật ký kiểm toán")
    expect(pg.locator("nav.sidebar")).to_contain_text("Lịch trực")
    expect(pg.locator("table.audit")).to_contain_text("user.lang")
