"""The registry's data-quality report (HTML and PDF, Vietnamese or English), for one commune or the
province: the four words as four scores with their trend, the worst villages, failures per rule
and per required field, household review coverage and where the duplicate review stands.

It names no person: counts, shares, villages and record ids only. Reading the scores records the
day's value (the trend), as the scorecard page does, so the report is built in a write session.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.core.access import Actor, Permission
from vigil.core.errors import NotFoundError
from vigil.core.finding import OPEN_STATUSES
from vigil.core.i18n import _
from vigil.core.units import UnitKind
from vigil.deployment import Deployment
from vigil.registry.review.decisions import DECISIONS, duplicate_queue
from vigil.registry.review.scorecard import WORDS, CommuneScore, commune_scores
from vigil.registry.rules.catalog import Catalog, load_catalog
from vigil.registry.rules.check import CAPABILITY
from vigil.reports.charts import Series, bar_chart, column_chart
from vigil.reports.lines import unit_name
from vigil.reports.render import Report, check_lang, render_html
from vigil.store.models import FindingRow

TEMPLATES = Path(__file__).parent / "report_templates"
TITLE = "Registry data quality"
MISSING_RULE = "required-field-missing"
#: One colour per word, in the charts.
WORD_COLOURS = {
    "correct": "#3182ce",
    "sufficient": "#d69e2e",
    "clean": "#805ad5",
    "living": "#9b1c1c",
}
#: The status of a proposed duplicate with no decision yet.
PENDING = "pending"
#: Days of trend a report shows.
TREND_DAYS = 14


@dataclass
class Quality:
    """What one report says about a set of communes (one, or every commune the reader sees)."""

    communes: list[CommuneScore]
    #: Open findings per rule name.
    per_rule: Counter[str] = field(default_factory=Counter)
    #: Persons missing each required field, per commune.
    missing: dict[str, Counter[str]] = field(default_factory=dict)
    #: Proposed duplicates per commune, by status (pending, accepted, rejected).
    duplicates: dict[str, Counter[str]] = field(default_factory=dict)
    #: Undecided pairs, most probable first: (left, right, commune, probability).
    pending: list[tuple[str, str, str, float]] = field(default_factory=list)

    @property
    def persons(self) -> int:
        return sum(c.persons for c in self.communes)

    def failing(self, word: str) -> int:
        return sum(c.failing[word] for c in self.communes)

    def score(self, word: str) -> float:
        """The words' share over every commune together: persons weigh, not communes."""
        return 1.0 - self.failing(word) / self.persons if self.persons else 1.0

    @property
    def households(self) -> int:
        return sum(c.households for c in self.communes)

    @property
    def reviewed(self) -> int:
        return sum(c.reviewed for c in self.communes)

    def trend(self) -> list[tuple[date, dict[str, int]]]:
        """Persons failing each word, day by day, over the communes (from their kept scores)."""
        days: dict[date, Counter[str]] = {}
        for c in self.communes:
            persons = c.persons
            for day, values in c.trend:
                bucket = days.setdefault(day, Counter())
                for w in WORDS:
                    bucket[w] += round((1.0 - values[w]) * persons)
        return [(d, dict(days[d])) for d in sorted(days)][-TREND_DAYS:]


def _open_findings(session: Session, communes: set[str]) -> list[tuple[str, str, Any]]:
    rows = session.execute(
        select(FindingRow.unit, FindingRow.rule, FindingRow.evidence).where(
            FindingRow.capability == CAPABILITY,
            FindingRow.unit.in_(communes),
            FindingRow.status.in_([s.value for s in OPEN_STATUSES]),
        )
    )
    return [(r.unit, r.rule, r.evidence) for r in rows]


def gather_quality(
    session: Session, dep: Deployment, actor: Actor, catalog: Catalog, only: str | None = None
) -> Quality:
    """The scores of the communes `actor` sees (or of `only`) and the counts behind them."""
    actor.require(Permission.VIEW)
    scores = commune_scores(session, dep, actor, only=only)
    quality = Quality(scores)
    names = {c.commune for c in scores}
    for commune in names:
        quality.missing[commune] = Counter({f: 0 for f in catalog.required_fields})
        quality.duplicates[commune] = Counter({s: 0 for s in (PENDING, *DECISIONS)})
    for unit, rule, evidence in _open_findings(session, names):
        quality.per_rule[rule] += 1
        if rule == MISSING_RULE:
            quality.missing[unit].update(str((evidence or {}).get("reason", "")).split())
    for pair in duplicate_queue(session, actor, only):
        if pair.commune not in names:
            continue
        quality.duplicates[pair.commune][pair.decision or PENDING] += 1
        if pair.decision is None:
            quality.pending.append((pair.left, pair.right, pair.commune, pair.probability))
    return quality


def _percent(share: float) -> float:
    return round(100.0 * share, 1)


def _rule_lines(quality: Quality, catalog: Catalog, lang: str) -> list[dict[str, Any]]:
    """Every rule of the catalog, word by word, with its open findings (zero included)."""
    lines = []
    for word in (*WORDS, "households"):
        for rule in catalog.rules:
            if rule.word == word:
                title = rule.title_vi if lang == "vi" else rule.title
                n = quality.per_rule.get(rule.name, 0)
                lines.append({"word": word, "rule": rule.name, "title": title, "count": n})
    return lines


def _charts(dep: Deployment, quality: Quality, lang: str, province: bool) -> dict[str, Any]:
    words = [_(w, lang) for w in WORDS]
    charts: dict[str, Any] = {}
    if province:
        communes = quality.communes
        charts["communes"] = bar_chart(
            "registry-communes",
            [unit_name(dep.units, c.commune, lang) for c in communes],
            [
                Series(name, WORD_COLOURS[w], tuple(c.failing[w] for c in communes))
                for w, name in zip(WORDS, words, strict=True)
            ],
            label=_("Persons failing each word, per commune", lang),
        )
    else:
        charts["words"] = bar_chart(
            "registry-words",
            words,
            [Series(_("Persons named", lang), "#3182ce", tuple(quality.failing(w) for w in WORDS))],
            label=_("Persons failing each word", lang),
            legend=False,
        )
    trend = quality.trend()
    if trend:
        charts["trend"] = column_chart(
            "registry-trend",
            [_day(d, lang) for d, _values in trend],
            [
                Series(name, WORD_COLOURS[w], tuple(values.get(w, 0) for _d, values in trend))
                for w, name in zip(WORDS, words, strict=True)
            ],
            label=_("Persons failing each word, day by day", lang),
        )
    return charts


def _day(day: date, lang: str) -> str:
    return day.strftime("%d/%m" if lang == "vi" else "%m-%d")


def _commune_lines(dep: Deployment, quality: Quality, lang: str) -> list[dict[str, Any]]:
    """One line per commune, worst first (lowest of its four scores)."""
    lines = []
    for c in quality.communes:
        dups = quality.duplicates[c.commune]
        lines.append(
            {
                "code": c.commune,
                "name": unit_name(dep.units, c.commune, lang),
                "persons": c.persons,
                "scores": {w: _percent(c.scores[w]) for w in WORDS},
                "lowest": min(c.scores.values()),
                "households": c.households,
                "reviewed": c.reviewed,
                "coverage": _percent(c.coverage),
                "duplicates": dict(dups),
                "missing": dict(quality.missing[c.commune]),
            }
        )
    return sorted(lines, key=lambda line: (line["lowest"], line["code"]))


def _worst_villages(dep: Deployment, quality: Quality, lang: str) -> list[dict[str, Any]]:
    found = [(c.commune, v, share) for c in quality.communes for v, share in c.worst_villages]
    found.sort(key=lambda item: (-item[2], item[1]))
    return [
        {
            "commune": unit_name(dep.units, commune, lang),
            "village": unit_name(dep.units, village, lang),
            "share": _percent(share),
        }
        for commune, village, share in found[:10]
    ]


def _context(dep: Deployment, quality: Quality, catalog: Catalog, lang: str) -> dict[str, Any]:
    missing: Counter[str] = Counter({f: 0 for f in catalog.required_fields})
    duplicates: Counter[str] = Counter({s: 0 for s in (PENDING, *DECISIONS)})
    for commune in quality.communes:
        missing.update(quality.missing[commune.commune])
        duplicates.update(quality.duplicates[commune.commune])
    households = quality.households
    return {
        "province": dep.units.root.name(lang),
        "issuer": dep.calendar.name,
        "generated_at": dep.now(),
        "words": WORDS,
        "persons": quality.persons,
        "scores": {w: _percent(quality.score(w)) for w in WORDS},
        "failing": {w: quality.failing(w) for w in WORDS},
        "trend": quality.trend(),
        "communes": _commune_lines(dep, quality, lang),
        "villages": _worst_villages(dep, quality, lang),
        "rules": _rule_lines(quality, catalog, lang),
        "fields": list(missing.items()),
        "households": households,
        "reviewed": quality.reviewed,
        "coverage": _percent(quality.reviewed / households if households else 1.0),
        "duplicates": [(s, duplicates[s]) for s in (PENDING, *DECISIONS)],
        "pending": [
            (left, right, unit_name(dep.units, unit, lang), p)
            for left, right, unit, p in sorted(quality.pending, key=lambda p: (-p[3], p[0]))[:20]
        ],
    }


def registry_report(dep: Deployment, actor: Actor, lang: str, commune: str | None = None) -> Report:
    """The data-quality report of `commune`, or of every commune `actor` sees (the province)."""
    check_lang(lang)
    catalog = load_catalog()
    if commune is not None:
        if commune not in dep.units or dep.units.get(commune).kind != UnitKind.COMMUNE:
            raise NotFoundError(f"no commune {commune!r} in this deployment")
        actor.require_unit(commune)
    with dep.store.session() as session:
        quality = gather_quality(session, dep, actor, catalog, only=commune)
    if not quality.communes:
        raise NotFoundError("no commune in your units")
    title = _(TITLE, lang)
    context = {
        **_context(dep, quality, catalog, lang),
        "title": title,
        "commune": None if commune is None else unit_name(dep.units, commune, lang),
        "charts": _charts(dep, quality, lang, province=commune is None),
    }
    html = render_html("registry_report.html", context, lang, extra_dirs=[TEMPLATES])
    kind = "registry" if commune is None else f"registry-{commune.lower()}"
    now = dep.now()
    return Report(kind, title, lang, now, now, html)
