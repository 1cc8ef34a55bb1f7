"""The candidate check report (HTML and PDF, Vietnamese or English): statuses per commune, the
facts that disagree most, and each candidate not verified with declared against recorded.

Personal data is masked in the report, always: a report is a file that leaves the system."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from vigil.candidates.review import FIELD_LABELS, STATUSES, candidate_rows, shown_name, side_by_side
from vigil.core.access import Actor
from vigil.core.i18n import _
from vigil.deployment import Deployment
from vigil.reports.charts import Series, bar_chart
from vigil.reports.lines import unit_name
from vigil.reports.render import Report, check_lang, render_html

TEMPLATES = Path(__file__).parent / "report_templates"
TITLE = "Candidate declaration check"
#: Colour of each status in the chart.
STATUS_COLOURS = {"verified": "#43a047", "mismatch": "#d69e2e", "not_found": "#9b1c1c"}


def candidates_report(dep: Deployment, actor: Actor, lang: str) -> Report:
    """The report of the last check as `actor` sees it (their units only)."""
    check_lang(lang)
    now = dep.now()
    with dep.store.reader() as session:
        rows = candidate_rows(session, actor)
        lines = [
            {
                "candidate_id": r.candidate_id,
                "name": shown_name(r, False),
                "unit": unit_name(dep.units, r.unit, lang),
                "status": r.status,
                "mismatches": side_by_side(r, False),
            }
            for r in rows
            if r.status != "verified"
        ]
        statuses = Counter(r.status for r in rows)
        per_unit: dict[str, Counter[str]] = {}
        for r in rows:
            per_unit.setdefault(r.unit, Counter())[r.status] += 1
        facts = Counter(m["field"] for r in rows for m in r.mismatches)
    units = sorted(per_unit)
    chart = None
    if units:
        chart = bar_chart(
            "candidates-by-commune",
            [unit_name(dep.units, u, lang) for u in units],
            [
                Series(_(s, lang), STATUS_COLOURS[s], tuple(per_unit[u][s] for u in units))
                for s in STATUSES
            ],
            label=_("Candidates by commune and status", lang),
        )
    title = _(TITLE, lang)
    context = {
        "title": title,
        "province": dep.units.root.name(lang),
        "issuer": dep.calendar.name,
        "generated_at": now,
        "total": len(rows),
        "statuses": [(s, statuses[s]) for s in STATUSES],
        "chart": chart,
        "facts": [(_(FIELD_LABELS.get(f, f), lang), n) for f, n in facts.most_common()],
        "lines": lines,
    }
    html = render_html("candidates_report.html", context, lang, extra_dirs=[TEMPLATES])
    return Report("candidates", title, lang, now, now, html)
