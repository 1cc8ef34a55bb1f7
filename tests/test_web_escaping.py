"""Property tests: whatever text a finding or a chart label holds, the page shows it escaped."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from tests.conftest import BEFORE
from tests.web_fixtures import api_login, build_world
from vigil.core.finding import Finding
from vigil.deployment import Deployment
from vigil.store.findings import record_findings
from vigil.web.charts import coverage_svg, daily_bars_svg

# Text XML 1.0 can carry (what a page can show), markup-significant characters included.
XML_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters="<>&\"'\t"),
    min_size=1,
    max_size=60,
).filter(lambda s: s.strip() != "")
SVG = "{http://www.w3.org/2000/svg}"


@given(title=XML_TEXT, empty=XML_TEXT, counts=st.lists(st.integers(0, 10_000), max_size=40))
def test_bar_chart_is_well_formed_whatever_the_text(
    title: str, empty: str, counts: list[int]
) -> None:
    points = [(date(2026, 1, 1) + timedelta(days=i), n) for i, n in enumerate(counts)]
    root = ET.fromstring(daily_bars_svg(points, title, empty))  # noqa: S314 (our own output)
    assert root.attrib["aria-label"] == title
    assert root.find(f"{SVG}title").text == title  # type: ignore[union-attr]
    bars = root.findall(f"{SVG}rect")
    assert len(bars) == len(counts)
    assert all(float(b.attrib["height"]) >= 0 for b in bars)
    heights = {b.find(f"{SVG}title").text: float(b.attrib["height"]) for b in bars}  # type: ignore[union-attr]
    for (day, n), (other, m) in itertools.pairwise(points):
        # Bars keep the order of their counts (up to the 0.1 rounding of the drawing).
        left, right = heights[f"{day.isoformat()}: {n}"], heights[f"{other.isoformat()}: {m}"]
        assert (left - right) * (n - m) >= -0.1


@given(title=XML_TEXT, labels=st.lists(XML_TEXT, min_size=1, max_size=7))
def test_coverage_chart_is_well_formed_whatever_the_labels(title: str, labels: list[str]) -> None:
    start = datetime(2026, 2, 1)
    days = [(label, start + timedelta(days=i)) for i, label in enumerate(labels)]
    gap = (start + timedelta(hours=3), start + timedelta(hours=9))
    root = ET.fromstring(coverage_svg(days, [gap], title))  # noqa: S314 (our own output)
    texts = [t.text for t in root.findall(f"{SVG}text")]
    assert texts[5:] == labels  # after the five hour marks, one label per day, as given
    gaps = [r for r in root.findall(f"{SVG}rect") if r.attrib.get("class") == "gap"]
    assert len(gaps) == 1  # only the first day holds the gap
    assert float(gaps[0].attrib["width"]) > 0


def test_finding_page_escapes_any_text(deployment: Deployment) -> None:
    world = build_world(deployment)
    counter = itertools.count()
    with TestClient(world.app) as client:
        api_login(client, "duty")

        @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(text=XML_TEXT)
        def check(text: str) -> None:
            finding = Finding(
                "monitor",
                "fuzz-rule",
                "high",
                "C01",
                f"subject-{next(counter)}",
                text,
                text,
                evidence={"value": text},
                observed_at=BEFORE,
            )
            with deployment.store.session() as session:
                fid = record_findings(session, [finding]).ids[finding.fingerprint]
            html = client.get(f"/findings/{fid}").text
            heading = re.search(r"<h1>.*?</span> (.*?)</h1>", html, re.S)
            assert heading is not None
            assert heading.group(1) == str(escape(text))

        check()
