"""Property tests: whatever text a finding or a chart label holds, the page shows it escaped."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from tests.conftest import BEFORE
from tests.web_fixtures import api_login, build_world
from vigil.core.finding import Finding
from vigil.deployment import Deployment
from vigil.reports import charts
from vigil.store.findings import record_findings

# Text XML 1.0 can carry (what a page can show), markup-significant characters included.
XML_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters="<>&\"'\t"),
    min_size=1,
    max_size=60,
).filter(lambda s: s.strip() != "")
SVG = "{http://www.w3.org/2000/svg}"


CHART = settings(max_examples=25, deadline=None)  # matplotlib draws each example: ~0.1 s
#: Random text holds characters no installed font draws; matplotlib says so for each.
NO_GLYPH = pytest.mark.filterwarnings("ignore:Glyph .* missing from font")


@NO_GLYPH
@CHART
@given(
    title=XML_TEXT,
    labels=st.lists(XML_TEXT, min_size=1, max_size=12),
    legend=XML_TEXT,
    data=st.data(),
)
def test_column_chart_is_well_formed_whatever_the_text(
    title: str, labels: list[str], legend: str, data: st.DataObject
) -> None:
    counts = data.draw(st.lists(st.integers(0, 10_000), min_size=len(labels), max_size=len(labels)))
    svg = charts.column_chart(
        "fuzz", labels, [charts.Series(legend, "#1f5f99", tuple(counts))], label=title
    )
    root = ET.fromstring(svg)  # noqa: S314 (our own output)
    assert (root.attrib["role"], root.attrib["aria-label"]) == ("img", title)
    # Labels are drawn as glyph outlines: no text of the data reaches the SVG as text or markup.
    assert root.findall(f".//{SVG}text") == []
    ids = [e.attrib["id"] for e in root.iter() if "id" in e.attrib]
    assert ids and all(i.startswith("fuzz-") for i in ids)


@NO_GLYPH
@CHART
@given(title=XML_TEXT, labels=st.lists(XML_TEXT, min_size=1, max_size=7))
def test_day_strips_are_well_formed_whatever_the_labels(title: str, labels: list[str]) -> None:
    start = datetime(2026, 2, 1)
    days = [(label, start + timedelta(days=i)) for i, label in enumerate(labels)]
    gap = (start + timedelta(hours=3), start + timedelta(hours=9))
    root = ET.fromstring(charts.day_strips("strip", days, [gap], label=title))  # noqa: S314
    assert (root.attrib["role"], root.attrib["aria-label"]) == ("img", title)
    gaps = [g for g in root.iter(f"{SVG}g") if g.attrib.get("id", "").startswith("strip-gap-")]
    assert len(gaps) == 1  # only the first day holds the gap
    # Its tooltip names the day as given and the local hours (UTC+7).
    assert gaps[0].findtext(f"{SVG}title") == f"{labels[0]}: 10:00–16:00"


def test_chart_label_and_tooltips_are_escaped() -> None:
    hostile = "</title><script>alert(1)</script>"
    day = datetime(2026, 2, 1)
    svg = charts.day_strips("x", [(hostile, day)], [(day, day + timedelta(hours=1))], label=hostile)
    assert "<script>" not in svg
    assert str(escape(hostile)) in svg


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
