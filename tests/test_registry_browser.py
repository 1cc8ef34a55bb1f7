"""A data officer in a real browser: a commune's scorecard, one duplicate accepted, another
rejected, and the "clean" score moving accordingly."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import serve_in_thread
from vigil.demo.build import DemoResult, build_demo
from vigil.demo.officers import DEMO_PASSWORD
from vigil.deployment import Deployment
from vigil.detection import run_detectors
from vigil.store.models import FindingRow

pytestmark = pytest.mark.browser
CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

from playwright.sync_api import Page, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    built = build_demo(tmp_path_factory.mktemp("regweb") / "d", persons=4000, seed=8)
    with Deployment.open(built.settings) as dep:
        run_detectors(dep, {"registry"})
    return built


@pytest.fixture
def server(demo: DemoResult) -> Iterator[str]:
    from vigil.web.app import create_app

    with serve_in_thread(create_app(demo.settings)) as url:
        yield url


def _busiest_commune(demo: DemoResult) -> str:
    with Deployment.open(demo.settings) as dep, dep.store.reader() as session:
        units = Counter(
            r.unit for r in session.query(FindingRow).filter(FindingRow.rule == "duplicate-person")
        )
    commune, count = units.most_common(1)[0]
    assert count >= 2
    return commune


def _clean(pg: Page) -> float:
    return float(pg.locator("[data-score=clean]").inner_text())


def test_accepting_and_rejecting_duplicates_moves_the_clean_score(
    server: str, demo: DemoResult
) -> None:
    commune = _busiest_commune(demo)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        pg = browser.new_page(base_url=server)
        pg.goto("/login")
        pg.fill("input[name=username]", "data_officer")
        pg.fill("input[name=password]", DEMO_PASSWORD)
        pg.click("form[action='/login'] button[type=submit]")
        pg.wait_for_url(re.compile(r".*/$"))

        pg.goto(f"/registry/communes/{commune}")
        before = _clean(pg)
        persons = int(re.search(r"(\d+)", pg.locator("[data-test=scores] p").inner_text())[1])
        pg.click("[data-test=queue-link]")
        pairs = pg.locator("section[data-pair]")
        first, second = (pairs.nth(i).get_attribute("data-pair") for i in range(2))
        assert "NK" in pg.content() and "explanation" not in pg.content()  # weights are shown
        pg.locator(f"section[data-pair='{first}'] button[value=accepted]").click()
        pg.wait_for_url(re.compile(r".*/registry/duplicates.*"))
        assert pg.locator(f"section[data-pair='{first}'] [data-test=decision]").inner_text()
        pg.goto(f"/registry/communes/{commune}")
        assert _clean(pg) == before  # one person recorded twice: still to be fixed

        pg.goto(f"/registry/duplicates?commune={commune}")
        pg.locator(f"section[data-pair='{second}'] button[value=rejected]").click()
        pg.wait_for_url(re.compile(r".*/registry/duplicates.*"))
        pg.goto(f"/registry/communes/{commune}")
        after = _clean(pg)
        assert after == pytest.approx(before + 2 / persons, abs=1e-4)
        browser.close()
