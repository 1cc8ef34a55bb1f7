"""A data officer in a real browser: the demo's voter lists, one commune's list masked, the
personal data revealed (audited), and the list built again with nothing changed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import serve_in_thread
from vigil.demo.build import DemoResult, build_demo
from vigil.demo.officers import DEMO_PASSWORD
from vigil.deployment import Deployment
from vigil.registry.voters.models import VoterList
from vigil.store.models import AuditEntry

pytestmark = pytest.mark.browser
CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

from playwright.sync_api import sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    return build_demo(tmp_path_factory.mktemp("voterweb") / "d", persons=3000, seed=5)


@pytest.fixture
def server(demo: DemoResult) -> Iterator[str]:
    from vigil.web.app import create_app

    with serve_in_thread(create_app(demo.settings)) as url:
        yield url


def test_a_data_officer_reads_reveals_and_rebuilds_a_voter_list(
    server: str, demo: DemoResult
) -> None:
    with Deployment.open(demo.settings) as dep, dep.store.reader() as session:
        first = session.scalars(select(VoterList).where(VoterList.commune == "C01")).one()
        voters = first.voters
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        pg = browser.new_page(base_url=server)
        pg.goto("/login")
        pg.fill("input[name=username]", "data_officer")
        pg.fill("input[name=password]", DEMO_PASSWORD)
        pg.click("form[action='/login'] button[type=submit]")
        pg.wait_for_url(re.compile(r".*/$"))

        pg.goto("/registry/voters")
        assert pg.locator("tr[data-commune=C01] [data-test=voters]").inner_text() == str(voters)
        pg.click("tr[data-commune=C01] a")
        pg.wait_for_url(re.compile(r".*/registry/voters/C01$"))
        assert f"{voters}" in pg.locator("[data-test=summary]").inner_text()
        row = pg.locator("[data-test=rows] tr[data-person]").first
        masked = row.locator("td").nth(2).inner_text()
        assert re.fullmatch(r"\S+( \S\.)+", masked), masked  # family name, then initials
        pg.click("form[action='/registry/voters/C01/reveal'] button")
        assert pg.locator("[data-test=revealed]").is_visible()
        shown = pg.locator("[data-test=rows] tr[data-person]").first.locator("td").nth(2)
        assert shown.inner_text() != masked and "." not in shown.inner_text()

        pg.goto("/registry/voters/C01")
        pg.click("form[action='/registry/voters/build'] button")
        pg.wait_for_url(re.compile(r".*/registry/voters/C01$"))
        summary = pg.locator("[data-test=summary]").inner_text()
        assert summary.startswith("Phiên bản 2") and "+0 / −0" in summary
        browser.close()
    with Deployment.open(demo.settings) as dep, dep.store.reader() as session:
        actions = [
            (e.actor, e.action)
            for e in session.scalars(select(AuditEntry).where(AuditEntry.actor == "data_officer"))
            if e.action.startswith(("personal.view", "registry.voters"))
        ]
    assert actions == [("data_officer", "personal.view"), ("data_officer", "registry.voters.build")]
