"""The duty room's charts, drawn by the one chart engine (vigil.reports.charts) for its reports
and its pages alike: alerts over time and by severity, findings by capability, duty coverage.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from babel.dates import format_date
from markupsafe import Markup

from vigil.core.clock import to_local
from vigil.core.i18n import _
from vigil.core.severity import Severity
from vigil.reports.charts import (
    FULL_WIDTH,
    SEVERITY_COLOURS,
    SEVERITY_ORDER,
    Series,
    bar_chart,
    column_chart,
    day_label,
    day_strips,
    severity_series,
)

#: The colour of a chart with one series (the web pages' accent).
_PLAIN = "#1f5f99"


def alerts_over_time(
    days: Sequence[date], counts: Mapping[date, Mapping[Severity, int]], lang: str
) -> Markup:
    """Alerts per local day, stacked by severity."""
    return column_chart(
        "alerts-over-time",
        [day_label(d, lang) for d in days],
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


def findings_per_day(points: Sequence[tuple[date, int]], lang: str) -> Markup:
    """New findings per local day (the dashboard's trend): one column a day."""
    return column_chart(
        "findings-per-day",
        [day_label(d, lang) for d, _n in points],
        [Series(_("New findings", lang), _PLAIN, tuple(n for _d, n in points))],
        label=_("New findings per day", lang),
        height=2.2,
    )


def duty_coverage(
    days: Sequence[tuple[date, datetime]], gaps: Sequence[tuple[datetime, datetime]], lang: str
) -> Markup:
    """The duty roster's coverage: a strip per local day, hours nobody is on shift in red.

    `days` are (local day, its start in UTC); `gaps` are UTC intervals.
    """
    return day_strips(
        "duty-coverage",
        [(format_date(d, "EEE dd/MM", locale=lang), start) for d, start in days],
        gaps,
        label=_("Duty coverage", lang),
    )
