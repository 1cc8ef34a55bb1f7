"""The report engine: CSS escaping, page counters, no network, files, charts, the catalog."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import tinycss2
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from hypothesis import given
from hypothesis import strategies as st

import vigil.reports
from vigil.cases import charts as case_charts
from vigil.core.errors import ReportError, ValidationError
from vigil.core.severity import Severity
from vigil.reports import charts, render
from vigil.reports.figures import hour_starts, local_days, per_day, per_hour
from vigil.reports.lines import PHASE_NAMES
from vigil.reports.render import (
    css_string,
    page_counter_css,
    render_html,
    render_pdf,
    report_stem,
    write_report,
)

ROOM = Path(vigil.reports.__file__).parent
BASE_CONTEXT = {
    "title": "Test report",
    "province": "Tỉnh Thử",
    "generated_at": datetime(2026, 2, 1, 3),
}


# --- CSS strings in <style> -------------------------------------------------------------------


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")))
def test_css_string_round_trips_through_a_css_parser(text: str) -> None:
    literal = str(css_string(text))
    tokens = [t for t in tinycss2.parse_component_value_list(literal) if t.type != "whitespace"]
    assert len(tokens) == 1 and tokens[0].type == "string"
    assert tokens[0].value == text
    assert "<" not in literal  # nothing can close the <style> element


def test_page_counter_in_both_languages() -> None:
    assert (
        str(page_counter_css("Trang {page}/{pages}")) == '"Trang " counter(page) "/" counter(pages)'
    )
    assert str(page_counter_css("Page {page} of {pages}")) == (
        '"Page " counter(page) " of " counter(pages)'
    )


def test_base_template_puts_running_header_and_footer_in_page_margins() -> None:
    html = render_html("base.html", {**BASE_CONTEXT, "province": 'Tỉnh "Thử" </style>'}, "vi")
    assert '@top-left { content: "Tỉnh \\22 Thử\\22  \\3c /style>"; }' in html
    assert '@bottom-left { content: "MẬT — CHỈ DÙNG NỘI BỘ"; }' in html
    assert '@bottom-right { content: "Trang " counter(page) "/" counter(pages); }' in html
    assert "Lập lúc 01/02/2026 10:00 (giờ Việt Nam, UTC+7)" in html
    # In the body the same name is HTML-escaped, not CSS-escaped.
    assert "Tỉnh &#34;Thử&#34; &lt;/style&gt;" in html


def test_render_html_refuses_unknown_language_and_missing_context() -> None:
    with pytest.raises(ValidationError, match="unknown report language 'fr'"):
        render_html("base.html", BASE_CONTEXT, "fr")
    with pytest.raises(ReportError, match="context lacks generated_at, province"):
        render_html("base.html", {"title": "x"}, "en")


# --- PDF without network ----------------------------------------------------------------------


def _page(body: str) -> str:
    return render_html("base.html", BASE_CONTEXT, "en").replace("</body>", f"{body}</body>")


@pytest.mark.parametrize(
    ("tag", "url"),
    [
        ('<img src="{}">', "http://127.0.0.1:9/logo.png"),
        ('<img src="{}">', "https://example.org/logo.png"),
        ('<link rel="stylesheet" href="{}">', "ftp://127.0.0.1/x.css"),
        ('<img src="{}">', "file:///etc/hostname"),  # a local file outside the report's folders
    ],
)
def test_pdf_rendering_fetches_nothing_outside(tag: str, url: str) -> None:
    with pytest.raises(ReportError, match="refused to fetch " + re.escape(url)):
        render_pdf(_page(tag.format(url)))


def test_pdf_rendering_reads_data_urls_and_own_files(tmp_path: Path) -> None:
    pixel = (
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8Bw"
        "HwAFAAH/q842iQAAAABJRU5ErkJggg=="
    )
    (tmp_path / "extra.css").write_text("h1 { color: red; }", encoding="utf-8")
    pdf = render_pdf(
        _page(f'<img src="{pixel}"><link rel="stylesheet" href="extra.css">'), tmp_path
    )
    assert pdf.startswith(b"%PDF-")


# --- files ------------------------------------------------------------------------------------


def test_write_report_names_by_period_and_never_overwrites(tmp_path: Path) -> None:
    when = datetime(2026, 2, 1, 0, 0)  # 07:00 local
    first = write_report(tmp_path, "handover", "<p>1</p>", b"%PDF-1", when=when)
    assert [p.name for p in first] == ["handover-20260201-0700.html", "handover-20260201-0700.pdf"]
    second = write_report(tmp_path, "handover", None, b"%PDF-2", when=when)
    assert [p.name for p in second] == ["handover-20260201-0700-2.pdf"]
    assert first[1].read_bytes() == b"%PDF-1" and second[0].read_bytes() == b"%PDF-2"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "handover-20260201-0700-2.pdf",
        "handover-20260201-0700.html",
        "handover-20260201-0700.pdf",
    ]


def test_write_report_refuses_bad_names_and_empty_reports(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="invalid report name"):
        report_stem("../etc/passwd", datetime(2026, 2, 1))
    with pytest.raises(ReportError, match="nothing to write"):
        write_report(tmp_path, "daily", None, None, when=datetime(2026, 2, 1))


# --- charts -----------------------------------------------------------------------------------

DAYS = [date(2026, 1, 19) + timedelta(days=n) for n in range(14)]
TREND = {d: {Severity.HIGH: n % 3, Severity.CRITICAL: int(n == 5)} for n, d in enumerate(DAYS)}


def test_charts_are_deterministic_inline_svg() -> None:
    first = case_charts.alerts_over_time(DAYS, TREND, "vi")
    assert case_charts.alerts_over_time(DAYS, dict(TREND), "vi") is first  # kept once drawn
    charts.clear_cache()
    assert case_charts.alerts_over_time(DAYS, dict(TREND), "vi") == first  # drawn again, alike
    assert first.startswith('<svg role="img" aria-label="Cảnh báo theo ngày" class="chart"')
    assert "<?xml" not in first and "<!DOCTYPE" not in first and "<dc:date>" not in first
    ids = re.findall(r'\bid="([^"]+)"', first)
    assert ids and all(i.startswith("alerts-over-time-") for i in ids)
    # Every reference points at an id of the same chart, so two charts on one page never clash.
    refs = re.findall(r'(?:href="#|url\(#)([^")]+)', first)
    assert refs and set(refs) <= set(ids)
    other = case_charts.open_by_severity({Severity.HIGH: 2}, "vi")
    assert not set(re.findall(r'\bid="([^"]+)"', other)) & set(ids)


def test_charts_carry_no_inline_css() -> None:
    """The pages' Content-Security-Policy (style-src 'self') blocks inline CSS: a chart draws
    with presentation attributes only."""
    svg = case_charts.alerts_over_time(DAYS, TREND, "en")
    assert "<style" not in svg and "style=" not in svg
    root = ET.fromstring(svg)  # noqa: S314 (our own output)
    assert (root.attrib["stroke-linejoin"], root.attrib["stroke-linecap"]) == ("round", "butt")
    fills = {e.attrib["fill"] for e in root.iter() if "fill" in e.attrib}
    assert {
        charts.SEVERITY_COLOURS[Severity.HIGH],
        charts.SEVERITY_COLOURS[Severity.CRITICAL],
    } <= fills


def test_chart_data_changes_the_svg() -> None:
    changed = {**TREND, DAYS[0]: {Severity.HIGH: 7}}
    assert case_charts.alerts_over_time(DAYS, TREND, "en") != case_charts.alerts_over_time(
        DAYS, changed, "en"
    )


def test_chart_rejects_series_of_the_wrong_length() -> None:
    with pytest.raises(ValueError, match="series 'x' has 1 values for 2 categories"):
        charts.column_chart("t", ["a", "b"], [charts.Series("x", "#000", (1,))], label="t")


def test_hour_and_day_buckets() -> None:
    start, end = datetime(2026, 2, 1, 0, 30), datetime(2026, 2, 1, 3, 0)
    hours = hour_starts(start, end)
    assert hours == [datetime(2026, 2, 1, h) for h in (0, 1, 2)]
    events = [
        (datetime(2026, 2, 1, 0, 45), Severity.HIGH),
        (datetime(2026, 2, 1, 2, 59), Severity.HIGH),
        (datetime(2026, 2, 1, 2, 0), Severity.MEDIUM),
        (datetime(2026, 2, 1, 3, 0), Severity.HIGH),  # outside
    ]
    assert per_hour(events, hours) == {
        hours[0]: {Severity.HIGH: 1},
        hours[1]: {},
        hours[2]: {Severity.HIGH: 1, Severity.MEDIUM: 1},
    }
    # 16:59 UTC is 23:59 local on the 1st, 17:00 UTC already the 2nd.
    days = local_days(datetime(2026, 2, 1, 10), datetime(2026, 2, 1, 18))
    assert days == [date(2026, 2, 1), date(2026, 2, 2)]
    assert per_day(
        [(datetime(2026, 2, 1, 16, 59), Severity.LOW), (datetime(2026, 2, 1, 17), Severity.LOW)],
        days,
    ) == {
        date(2026, 2, 1): {Severity.LOW: 1},
        date(2026, 2, 2): {Severity.LOW: 1},
    }


# --- the Vietnamese catalog ---------------------------------------------------------------------


def _catalog() -> dict[str, str]:
    with (ROOM / "locales" / "vi.po").open("rb") as fh:
        catalog = read_po(fh, locale="vi")
    return {str(m.id): str(m.string) for m in catalog if m.id}


def _used_msgids() -> set[str]:
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true"}}
    found = {
        str(msg)
        for _, _, msg, _, _ in extract_from_dir(
            str(ROOM),
            [("**.py", "python"), ("**/templates/**.html", "jinja2")],
            options_map=options,
        )
    }
    constants = {
        render.CLASSIFICATION,
        render.PAGE_COUNTER,
        *PHASE_NAMES.values(),
    }
    return found | constants


def test_every_report_string_has_a_vietnamese_translation() -> None:
    catalog = _catalog()
    used = _used_msgids()
    assert len(used) >= 6  # the margins, the generated line, the three phases
    missing = sorted(m for m in used if not catalog.get(m))
    assert missing == []
    unused = sorted(set(catalog) - used)
    assert unused == []


def test_translations_keep_their_placeholders() -> None:
    for msgid, msgstr in _catalog().items():
        pattern = r"%\(\w+\)s|\{\w+\}"
        assert sorted(re.findall(pattern, msgid)) == sorted(re.findall(pattern, msgstr)), msgid


def test_vietnamese_titles_and_labels() -> None:
    catalog = _catalog()
    assert catalog["RESTRICTED — INTERNAL USE"] == "MẬT — CHỈ DÙNG NỘI BỘ"
    assert catalog["Page {page} of {pages}"] == "Trang {page}/{pages}"
    assert catalog["Before voting"] == "Trước ngày bầu cử"
