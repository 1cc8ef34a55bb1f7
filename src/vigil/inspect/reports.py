"""The room's reports: an inspection report per unit (scorecard, shortfalls, evidence,
remediation plan, trend) and the province summary (every unit side by side, worst first), in
Vietnamese or English, through the reports engine (HTML, PDF, charts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.clikit import DEFAULT_DATA, DataDir, handle_errors, open_deployment
from vigil.core.access import Actor
from vigil.core.errors import NotFoundError
from vigil.core.i18n import _
from vigil.deployment import Deployment
from vigil.inspect.controls.catalog import Catalog, builtin_catalog
from vigil.inspect.models import Evidence, Inspection, RemediationItem
from vigil.inspect.workflow import inspections as wf
from vigil.reports.charts import Series, bar_chart
from vigil.reports.cli import AsUser, Lang, Out, Pdf, report_actor, report_group
from vigil.reports.lines import unit_name
from vigil.reports.render import Report, check_lang, render_html

TEMPLATES = Path(__file__).parent / "templates"
UNIT_TITLE = "Inspection report"
SUMMARY_TITLE = "Inspections of the province"
SCORE_COLOUR = "#2b6cb0"


@dataclass
class Shortfall:
    control: str
    title: str
    group: str
    severity: int
    status: str
    note: str
    owner: str = ""
    due_at: datetime | None = None
    overdue: bool = False


@dataclass
class UnitSummary:
    unit: str
    name: str
    profile: str
    inspection: int
    overall: float
    level: int
    target: int
    change: float | None
    shortfalls: list[Shortfall] = field(default_factory=list)
    vulnerabilities: list[dict[str, Any]] = field(default_factory=list)


def _shortfalls(
    session: Session, catalog: Catalog, row: Inspection, now: datetime, lang: str
) -> list[Shortfall]:
    answers = wf.answers_of(session, row.id)
    items = {
        i.control: i
        for i in session.scalars(
            select(RemediationItem).where(RemediationItem.inspection_id == row.id)
        )
    }
    out = []
    for control, status in wf.scorecard_of(session, catalog, row).shortfalls:
        answer, item = answers.get(control.id), items.get(control.id)
        out.append(
            Shortfall(
                control.id,
                control.name(lang),
                control.group,
                int(control.severity),
                status,
                answer.note if answer else "",
                item.owner if item else "",
                item.due_at if item else None,
                bool(item and wf.overdue(item, now)),
            )
        )
    return out


def _vulnerabilities(session: Session, row: Inspection) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Evidence).where(Evidence.inspection_id == row.id, Evidence.kind == "inventory")
    )
    return [
        v
        for e in rows
        for verdict in e.result.get("verdicts", [])
        for v in verdict.get("detail", {}).get("vulnerabilities", [])
    ]


def unit_summary(
    dep: Deployment, session: Session, catalog: Catalog, row: Inspection, lang: str
) -> UnitSummary:
    view = wf.view_inspection(session, catalog, row)
    card = view.scorecard
    return UnitSummary(
        row.unit,
        unit_name(dep.units, row.unit, lang),
        catalog.profile(row.profile).name(lang),
        row.id,
        card.overall,
        card.level,
        card.target_level,
        view.trend.overall_change if view.trend else None,
        _shortfalls(session, catalog, row, dep.now(), lang),
        _vulnerabilities(session, row),
    )


def province_summaries(dep: Deployment, actor: Actor, lang: str) -> list[UnitSummary]:
    """Each unit's latest closed inspection, worst first (lowest score, then most shortfalls)."""
    catalog = builtin_catalog()
    with dep.store.reader() as session:
        rows = wf.latest_closed(session, set(actor.scope))
        units = [unit_summary(dep, session, catalog, r, lang) for r in rows]
    return sorted(units, key=lambda u: (u.overall, -len(u.shortfalls), u.unit))


def _base(dep: Deployment, title: str, lang: str) -> dict[str, Any]:
    return {"title": title, "province": dep.units.root.name(lang), "generated_at": dep.now()}


def inspection_report(dep: Deployment, actor: Actor, unit: str, lang: str) -> Report:
    """The report of the unit's latest closed inspection."""
    check_lang(lang)
    actor.require_unit(unit)
    catalog = builtin_catalog()
    with dep.store.reader() as session:
        rows = wf.latest_closed(session, {unit})
        if not rows:
            raise NotFoundError(f"unit {unit} has no closed inspection")
        row = rows[0]
        view = wf.view_inspection(session, catalog, row)
        summary = unit_summary(dep, session, catalog, row, lang)
        evidence = list(
            session.scalars(
                select(Evidence).where(Evidence.inspection_id == row.id).order_by(Evidence.id)
            )
        )
        evidence_rows = [
            {
                "kind": e.kind,
                "file": e.filename,
                "sha256": e.sha256[:12],
                "verdicts": e.result.get("verdicts", []),
            }
            for e in evidence
        ]
    groups = [g for g in view.scorecard.groups if g.score is not None]
    chart = bar_chart(
        "inspect-groups",
        [g.title_vi if lang == "vi" else g.title for g in groups],
        [Series(_("Score", lang), SCORE_COLOUR, tuple(round(g.score or 0) for g in groups))],
        label=_("Score per group (0-100)", lang),
        legend=False,
    )
    title = _(UNIT_TITLE, lang)
    context = {
        **_base(dep, title, lang),
        "unit": summary,
        "card": view.scorecard,
        "trend": view.trend,
        "evidence": evidence_rows,
        "chart": chart,
        "inspection": row,
    }
    html = render_html("inspect_unit_report.html", context, lang, extra_dirs=[TEMPLATES])
    return Report(
        f"inspection-{unit.lower()}",
        title,
        lang,
        row.planned_for,
        row.closed_at or row.planned_for,
        html,
    )


def summary_report(dep: Deployment, actor: Actor, lang: str) -> Report:
    check_lang(lang)
    units = province_summaries(dep, actor, lang)
    if not units:
        raise NotFoundError("no closed inspection yet")
    chart = bar_chart(
        "inspect-units",
        [u.name for u in units],
        [Series(_("Score", lang), SCORE_COLOUR, tuple(round(u.overall) for u in units))],
        label=_("Overall score per unit, worst first", lang),
        legend=False,
    )
    title = _(SUMMARY_TITLE, lang)
    context = {
        **_base(dep, title, lang),
        "units": units,
        "chart": chart,
        "shortfalls": sum(len(u.shortfalls) for u in units),
        "vulnerable": sum(len(u.vulnerabilities) for u in units),
        "overdue": sum(s.overdue for u in units for s in u.shortfalls),
    }
    html = render_html("inspect_summary_report.html", context, lang, extra_dirs=[TEMPLATES])
    now = dep.now()
    return Report("inspections", title, lang, now, now, html)


def _inspection_command(
    unit: Annotated[str, typer.Argument(help="Unit code.")],
    data: DataDir = DEFAULT_DATA,
    lang: Lang = None,
    pdf: Pdf = True,
    out: Out = None,
    as_user: AsUser = None,
) -> None:
    """A unit's inspection report: scorecard, shortfalls, evidence, remediation plan, trend."""
    from vigil.reports.archive import publish

    with open_deployment(data) as dep:
        actor = report_actor(dep, as_user)
        report = inspection_report(dep, actor, unit, lang or dep.settings.lang)
        for path in publish(dep, actor, report, pdf=pdf, out=out):
            typer.echo(path)


def _summary_command(
    data: DataDir = DEFAULT_DATA,
    lang: Lang = None,
    pdf: Pdf = True,
    out: Out = None,
    as_user: AsUser = None,
) -> None:
    """The province summary of inspections: every unit side by side, worst first."""
    from vigil.reports.archive import publish

    with open_deployment(data) as dep:
        actor = report_actor(dep, as_user)
        report = summary_report(dep, actor, lang or dep.settings.lang)
        for path in publish(dep, actor, report, pdf=pdf, out=out):
            typer.echo(path)


def mount(app: typer.Typer) -> None:
    """`vigil report inspection UNIT` and `vigil report inspections` on the root command."""
    group = report_group(app)
    group.command("inspection")(handle_errors(_inspection_command))
    group.command("inspections")(handle_errors(_summary_command))
