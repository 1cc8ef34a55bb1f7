"""The one chart engine of vigil: inline SVG drawn with matplotlib, for reports and web pages.

Glyphs are drawn as paths from Noto Sans, so Vietnamese labels look the same in a browser and in
WeasyPrint whatever fonts the reader has. The same data gives byte-identical SVG: the hash salt
that names clip paths is fixed and the file carries no date. That also makes a drawn chart safe
to keep: the last few are cached by their data (a page asked for again does not draw again).

Every chart is `role="img"` with its label as `aria-label`; text from the store never reaches the
SVG as markup (labels become glyph paths, tooltips and the label are escaped).
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, Final

from babel.dates import format_date
from markupsafe import Markup, escape
from matplotlib import font_manager, rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator

from vigil.core.clock import to_local
from vigil.core.errors import ReportError
from vigil.core.i18n import _
from vigil.core.severity import Severity

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

#: One colour per severity, the same in every chart and in the tables' badges (report.css).
SEVERITY_COLOURS: dict[Severity, str] = {
    Severity.CRITICAL: "#9b1c1c",
    Severity.HIGH: "#dd6b20",
    Severity.MEDIUM: "#d69e2e",
    Severity.LOW: "#3182ce",
    Severity.INFO: "#a0aec0",
}
#: Most severe first: legend order, and bottom of each stack.
SEVERITY_ORDER = sorted(Severity, reverse=True)

#: Full text width of an A4 page with the report's margins, in inches.
FULL_WIDTH = 6.8
_FONTS = ("Noto Sans", "DejaVu Sans")
_INK = "#2d3748"
_GRID = "#e2e8f0"
#: Inches one legend entry takes at most ("nghiêm trọng" and its swatch), to wrap the legend.
_LEGEND_COLUMN = 1.05
_LAYOUT: Final = "constrained"
# matplotlib keeps its settings in one global; two reports drawn at once must not mix them.
_LOCK = threading.Lock()
#: No date (determinism) and no creator or RDF block (noise in an inline SVG).
_NO_METADATA: dict[str, Any] = {"Date": None, "Creator": None, "Format": None, "Type": None}
_ID_REF = re.compile(r'(\bid="|href="#|url\(#)')
_STYLE_ELEMENT = re.compile(r"\s*<style[^>]*>(.*?)</style>", re.S)
_STYLE_ATTRIBUTE = re.compile(r' style="([^"]*)"')
#: Charts kept once drawn (by their data and labels); a dashboard draws one or two per request.
_CACHED = 64
#: Colours of a day strip: the hours covered, and a gap in them.
COVERED_COLOUR = "#43a047"
GAP_COLOUR = "#d32f2f"


@dataclass(frozen=True)
class Series:
    """One stacked layer: a label for the legend, a colour, a value per category."""

    label: str
    colour: str
    values: tuple[int, ...]


@cache
def _font_families() -> list[str]:
    """The preferred fonts that are installed (matplotlib warns at every draw of a missing one)."""
    found = []
    for family in _FONTS:
        try:
            font_manager.findfont(family, fallback_to_default=False)
        except ValueError:
            continue
        found.append(family)
    return found or ["sans-serif"]


def _style(chart: str) -> dict[RcKeyType, Any]:
    return {
        # A salt per chart keeps clip-path ids distinct when several charts share one HTML page.
        "svg.hashsalt": f"vigil-{chart}",
        "svg.fonttype": "path",
        "font.family": _font_families(),
        "font.size": 7.5,
        "text.color": _INK,
        "axes.labelcolor": _INK,
        "axes.edgecolor": "#a0aec0",
        "axes.linewidth": 0.6,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "xtick.color": _INK,
        "ytick.color": _INK,
        "xtick.major.size": 0,
        "ytick.major.size": 0,
        "legend.frameon": False,
        "legend.fontsize": 7,
        # A '$' in a label is a dollar sign, not the start of a formula.
        "text.parse_math": False,
    }


def _to_svg(fig: Figure, chart: str, label: str, tips: Mapping[str, str] | None = None) -> Markup:
    """The figure as inline SVG; `tips` maps an artist's gid to a tooltip (an SVG <title>)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata=_NO_METADATA, transparent=True)
    text = buf.getvalue()
    # Inline SVG in HTML takes neither the XML prolog nor the doctype.
    svg = _without_inline_css(text[text.index("<svg") :])
    # Ids live in the HTML page's single namespace once inlined: prefix them with the chart's name.
    svg = _ID_REF.sub(lambda m: f"{m[1]}{chart}-", svg)
    svg = svg.replace(
        "<svg ", f'<svg role="img" aria-label="{_attribute(label)}" class="chart" ', 1
    )
    for gid, tip in (tips or {}).items():
        group = f'<g id="{chart}-{gid}">'
        svg = svg.replace(group, f"{group}<title>{escape(tip)}</title>", 1)
    return Markup(svg)  # noqa: S704 - matplotlib's own output; the only text we add is escaped


def _without_inline_css(svg: str) -> str:
    """The same drawing without inline CSS, which the pages' Content-Security-Policy (style-src
    'self') would block: matplotlib's one style rule and its style attributes become SVG
    presentation attributes, which draw the same in a browser and in WeasyPrint."""

    def attributes(css: str) -> str:
        pairs = (decl.split(":", 1) for decl in css.split(";") if ":" in decl)
        return "".join(f' {name.strip()}="{value.strip()}"' for name, value in pairs)

    element = _STYLE_ELEMENT.search(svg)
    if element:
        rule = element[1].strip()
        # matplotlib writes one rule for every element; presentation attributes on the root
        # reach every element the same way, by inheritance.
        if not (rule.startswith("*{") and rule.endswith("}")):
            raise ReportError(f"unexpected style rule in matplotlib's SVG: {rule[:80]!r}")
        svg = svg[: element.start()] + svg[element.end() :]
        svg = svg.replace("<svg ", f"<svg{attributes(rule[2:-1])} ", 1)
    return _STYLE_ATTRIBUTE.sub(lambda m: attributes(m[1]), svg)


def _attribute(text: str) -> str:
    """Text as an XML attribute value that reads back the same: escaped, and the whitespace an
    XML parser would fold into spaces written as character references."""
    return str(escape(text)).replace("\t", "&#9;").replace("\n", "&#10;").replace("\r", "&#13;")


def _legend(fig: Figure, series: Sequence[Series], width: float) -> None:
    """The legend above the plot, wrapped to the figure's width (constrained layout makes room)."""
    handles = [Patch(color=s.colour, label=s.label) for s in series if any(s.values)]
    if handles:
        fig.legend(
            handles=handles,
            loc="outside upper left",
            ncols=max(1, min(len(handles), int(width // _LEGEND_COLUMN))),
            handlelength=1.0,
            handleheight=0.8,
            columnspacing=1.2,
        )


def column_chart(
    chart: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    label: str,
    width: float = FULL_WIDTH,
    height: float = 2.3,
) -> Markup:
    """Vertical columns, series stacked in order (the first at the bottom), totals on top."""
    _check(categories, series)
    return _column_chart(chart, tuple(categories), tuple(series), label, width, height)


@lru_cache(maxsize=_CACHED)
def _column_chart(
    chart: str,
    categories: tuple[str, ...],
    series: tuple[Series, ...],
    label: str,
    width: float,
    height: float,
) -> Markup:
    with _LOCK, rc_context(_style(chart)):
        fig = Figure(figsize=(width, height), layout=_LAYOUT)
        ax = fig.add_subplot()
        positions = list(range(len(categories)))
        bottom = [0] * len(categories)
        for s in series:
            if any(s.values):
                ax.bar(positions, s.values, bottom=bottom, color=s.colour, width=0.7, linewidth=0)
                bottom = [b + v for b, v in zip(bottom, s.values, strict=True)]
        _totals(ax, positions, bottom, vertical=True)
        ax.set_xticks(positions, list(categories))
        if len(categories) > 16:
            ax.tick_params(axis="x", labelrotation=90)
        ax.set_xlim(-0.6, len(categories) - 0.4)
        ax.set_ylim(0, max([*bottom, 1]) * 1.18)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
        ax.grid(axis="y", color=_GRID, linewidth=0.5)
        ax.set_axisbelow(True)
        _legend(fig, series, width)
        return _to_svg(fig, chart, label)


def bar_chart(
    chart: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    label: str,
    width: float = FULL_WIDTH,
    height: float | None = None,
    legend: bool = True,
) -> Markup:
    """Horizontal bars, first category on top, series stacked left to right, totals at the end."""
    _check(categories, series)
    return _bar_chart(chart, tuple(categories), tuple(series), label, width, height, legend)


@lru_cache(maxsize=_CACHED)
def _bar_chart(
    chart: str,
    categories: tuple[str, ...],
    series: tuple[Series, ...],
    label: str,
    width: float,
    height: float | None,
    legend: bool,
) -> Markup:
    with _LOCK, rc_context(_style(chart)):
        fig = Figure(
            figsize=(width, height or 0.55 + 0.26 * max(len(categories), 1)), layout=_LAYOUT
        )
        ax = fig.add_subplot()
        positions = list(range(len(categories)))[::-1]
        left = [0] * len(categories)
        for s in series:
            if any(s.values):
                ax.barh(positions, s.values, left=left, color=s.colour, height=0.62, linewidth=0)
                left = [a + v for a, v in zip(left, s.values, strict=True)]
        _totals(ax, positions, left, vertical=False)
        ax.set_yticks(positions, list(categories))
        ax.set_ylim(-0.6, len(categories) - 0.4)
        ax.set_xlim(0, max([*left, 1]) * 1.12)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
        ax.grid(axis="x", color=_GRID, linewidth=0.5)
        ax.set_axisbelow(True)
        if legend:
            _legend(fig, series, width)
        return _to_svg(fig, chart, label)


def _check(categories: Sequence[str], series: Sequence[Series]) -> None:
    for s in series:
        if len(s.values) != len(categories):
            raise ValueError(
                f"series {s.label!r} has {len(s.values)} values for {len(categories)} categories"
            )


def _totals(ax: Axes, positions: Sequence[int], totals: Sequence[int], *, vertical: bool) -> None:
    for pos, total in zip(positions, totals, strict=True):
        if total:
            if vertical:
                ax.annotate(
                    str(total),
                    (pos, total),
                    xytext=(0, 2),
                    textcoords="offset points",
                    ha="center",
                    va="bottom",
                    fontsize=6.5,
                )
            else:
                ax.annotate(
                    str(total),
                    (total, pos),
                    xytext=(3, 0),
                    textcoords="offset points",
                    ha="left",
                    va="center",
                    fontsize=6.5,
                )


def clear_cache() -> None:
    """Forget every chart drawn so far (the next call draws again)."""
    _column_chart.cache_clear()
    _bar_chart.cache_clear()
    _day_strips.cache_clear()


# --- day strips ------------------------------------------------------------------------------

_DAY = timedelta(days=1)


def day_strips(
    chart: str,
    days: Sequence[tuple[str, datetime]],
    gaps: Sequence[tuple[datetime, datetime]],
    *,
    label: str,
    width: float = FULL_WIDTH,
) -> Markup:
    """One 24-hour strip per day (the first on top), covered in green, its gaps in red.

    `days` are (label, start of the day) and `gaps` intervals on the same clock (naive UTC). Each
    gap drawn is a group with the id `<chart>-gap-<n>` and a tooltip: the day and the local hours.
    """
    return _day_strips(chart, tuple(days), tuple(gaps), label, width)


@lru_cache(maxsize=_CACHED)
def _day_strips(
    chart: str,
    days: tuple[tuple[str, datetime], ...],
    gaps: tuple[tuple[datetime, datetime], ...],
    label: str,
    width: float,
) -> Markup:
    tips: dict[str, str] = {}
    with _LOCK, rc_context(_style(chart)):
        fig = Figure(figsize=(width, 0.45 + 0.24 * max(len(days), 1)), layout=_LAYOUT)
        ax = fig.add_subplot()
        rows = list(range(len(days)))[::-1]
        ax.barh(rows, [24] * len(days), left=0, height=0.7, color=COVERED_COLOUR, linewidth=0)
        for row, (day_label, start) in zip(rows, days, strict=True):
            for lo, hi in gaps:
                lo, hi = max(lo, start), min(hi, start + _DAY)
                if hi <= lo:
                    continue
                gid = f"gap-{len(tips)}"
                x = 24 * ((lo - start) / _DAY)
                w = max(0.05, 24 * ((hi - lo) / _DAY))
                ax.add_patch(
                    Rectangle((x, row - 0.35), w, 0.7, color=GAP_COLOUR, linewidth=0, gid=gid)
                )
                tips[gid] = f"{day_label}: {to_local(lo):%H:%M}–{to_local(hi):%H:%M}"
        ax.set_yticks(rows, [day_label for day_label, _start in days])
        ax.set_xticks(range(0, 25, 6), [f"{hour:02d}:00" for hour in range(0, 25, 6)])
        ax.set_xlim(0, 24)
        ax.set_ylim(-0.6, len(days) - 0.4)
        ax.spines["left"].set_visible(False)
        return _to_svg(fig, chart, label, tips)


# --- helpers for charts by severity -----------------------------------------------------------


def severity_series(
    counts: Sequence[Mapping[Severity, int]],
    lang: str,
    *,
    severities: Sequence[Severity] = SEVERITY_ORDER,
) -> list[Series]:
    """One series per severity (most severe first) over a row of {severity: count} mappings."""
    return [
        Series(_(sev.label, lang), SEVERITY_COLOURS[sev], tuple(c.get(sev, 0) for c in counts))
        for sev in severities
    ]


def day_label(day: date, lang: str) -> str:
    """A day on a chart's axis: 14/03 in Vietnamese, 14 Mar in English."""
    return format_date(day, "dd/MM" if lang == "vi" else "d MMM", locale=lang)
