"""The candidates' pages in a real browser: an officer finds the candidate with a mismatch,
sees both sides masked, reveals them (audited)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.candidates_fixtures import CLEAN, csv_text, write_registry
from tests.test_candidates_pages import GIANG
from tests.test_web_browser import log_in, page, server  # noqa: F401  (fixtures)
from tests.web_fixtures import WebWorld, build_world
from vigil.candidates.ingest import import_declarations
from vigil.candidates.mapping import Mapping
from vigil.deployment import Deployment
from vigil.detection import run_detectors

pytestmark = pytest.mark.browser

from playwright.sync_api import Page, expect  # noqa: E402


@pytest.fixture
def world(deployment: Deployment, tmp_path: Path) -> WebWorld:
    world = build_world(deployment)
    write_registry(deployment)
    path = tmp_path / "list.csv"
    path.write_text(csv_text([CLEAN, GIANG]), encoding="utf-8")
    import_declarations(deployment, path, Mapping())
    run_detectors(deployment, {"candidates"})
    return world


def test_officer_reviews_a_mismatch_and_reveals_it(page: Page, world: WebWorld) -> None:  # noqa: F811
    pg = page
    log_in(pg, "admin")
    pg.click("nav.sidebar >> text=Ứng cử viên")
    pg.wait_for_url("**/candidates")
    rows = pg.locator("table[data-test=candidates] tbody tr")
    expect(rows).to_have_count(2)
    expect(pg.locator("tr[data-candidate='UCV-1']")).to_contain_text("đã xác minh")
    pg.select_option("select[name=status]", "mismatch")
    pg.click("form.filters button[type=submit]")
    expect(rows).to_have_count(1)
    pg.click("text=UCV-2")
    pg.wait_for_url("**/candidates/UCV-2")
    birth = pg.locator("tr[data-field=birth_date]")
    expect(birth.locator("[data-test=declared]")).to_have_text("1976")
    expect(birth.locator("[data-test=recorded]")).to_have_text("1975")
    pg.click("[data-test=reveal]")
    expect(birth.locator("[data-test=declared]")).to_have_text("1976-11-05")
    expect(birth.locator("[data-test=recorded]")).to_have_text("1975-11-05")
    pg.goto("/audit?actor=admin")
    expect(pg.locator("table.audit tbody tr").filter(has_text="personal.view")).to_contain_text(
        "candidate:UCV-2"
    )
