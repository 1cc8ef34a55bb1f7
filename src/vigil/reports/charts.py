"""Charts for reports as inline SVG, drawn with matplotlib's SVG backend.

Glyphs are drawn as paths from Noto Sans, so Vietnamese labels look the same in a browser and in
WeasyPrint whatever fonts the reader has. The same data gives byte-identical SVG: the hash salt
that names clip paths is fixed and the file carries no date.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import TYPE_CHECKING, Any, Final

from babel.dates import format_date
from markupsafe import Markup, escape
from matplotlib import font_manager, rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from vigil.core.clock import to_local
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
    }


def _to_svg(fig: Figure, chart: str, label: str) -> Markup:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata=_NO_METADATA, transparent=True)
    text = buf.getvalue()
    # Inline SVG in HTML takes neither the XML prolog nor the doctype.
    svg = text[text.index("<svg") :]
    # Ids live in the HTML page's single namespace once inlined: prefix them with the chart's name.
    svg = _ID_REF.sub(lambda m: f"{m[1]}{chart}-", svg)
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" class="chart" ', 1)
    return Markup(svg)  # noqa: S704 - matplotlib's own output; the only text we add is escaped


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


# --- the charts of the reports -------------------------------------------------------------------


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


def _day_label(day: date, lang: str) -> str:
    return format_date(day, "dd/MM" if lang == "vi" else "d MMM", locale=lang)


def alerts_over_time(
    days: Sequence[date], counts: Mapping[date, Mapping[Severity, int]], lang: str
) -> Markup:
    """Alerts per local day, stacked by severity."""
    return column_chart(
        "alerts-over-time",
        [_day_label(d, lang) for d in days],
        severity_series([counts.get(d, {}) for d in days], lang),
        label=_("Alerts per day", lang),
    )


def alerts_by_hour(
    hours: Sequence[datetime], counts: Mapping[datetime, Mapping[Severity, int]], lang: str
) -> Markup:
    """Alerts per hour of a shift (hours are naive UTC starts, labelled in local time)."""
    return column_chart(
        "alerts-by-hour",
        [to_local(h).strftime("%H:00") for h in hours],
        severity_series([counts.get(h, {}) for h in hours], lang),
        label=_("Alerts per hour", lang),
        height=2.1,
    )


def open_by_severity(
    counts: Mapping[Severity, int], lang: str, *, width: float = FULL_WIDTH
) -> Markup:
    """Open alerts, one bar per severity given (most severe on top), each in its own colour."""
    shown = [sev for sev in SEVERITY_ORDER if sev in counts]
    return bar_chart(
        "open-by-severity",
        [_(sev.label, lang) for sev in shown],
        [
            Series(
                _(sev.label, lang),
                SEVERITY_COLOURS[sev],
                tuple(counts[sev] if other is sev else 0 for other in shown),
            )
            for sev in shown
        ],
        label=_("Open alerts by severity", lang),
        width=width,
        legend=False,
    )


def findings_by_capability(
    counts: Mapping[str, Mapping[Severity, int]],
    names: Mapping[str, str],
    lang: str,
    *,
    width: float = FULL_WIDTH,
) -> Markup:
    """Findings per capability (largest first), stacked by severity; `names` are display names."""
    ordered = sorted(counts, key=lambda cap: (-sum(counts[cap].values()), cap))
    return bar_chart(
        "findings-by-capability",
        [names.get(cap, cap) for cap in ordered],
        severity_series([counts[cap] for cap in ordered], lang),
        label=_("Findings by capability", lang),
        width=width,
    )
