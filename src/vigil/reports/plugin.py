"""`vigil report handover` and `vigil report daily`: write a report and print where it went."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vigil.clikit import DEFAULT_DATA, DataDir, handle_errors, open_deployment
from vigil.core.access import Actor
from vigil.core.clock import local_day, parse_local_day, parse_optional_time
from vigil.deployment import Deployment
from vigil.plugins import hookimpl

if TYPE_CHECKING:
    from fastapi import APIRouter

report_app = typer.Typer(
    help="Reports: shift handover, daily situation (PDF or HTML).", no_args_is_help=True
)

Lang = Annotated[str | None, typer.Option(help="Language: vi or en (default: the deployment's).")]
Pdf = Annotated[bool, typer.Option("--pdf/--html", help="PDF (with its HTML source) or HTML only.")]
Out = Annotated[
    Path | None, typer.Option(help="Write exactly this file instead of <data>/reports/.")
]
AsUser = Annotated[
    str | None,
    typer.Option(
        "--as", help="Report as this officer (their units only); default: the whole province."
    ),
]


@hookimpl
def vigil_cli(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")


@hookimpl
def vigil_locales() -> Iterable[Path]:
    return [Path(__file__).parent / "locales"]


@hookimpl
def vigil_routers() -> Iterable[APIRouter]:
    """The report downloads behind the handover page and the dashboard (reports/routes.py)."""
    from vigil.reports.routes import router

    return [router]


def report_day(dep: Deployment, text: str | None) -> date:
    """The day a person asked for, or the deployment's today."""
    return parse_local_day(text, "--date") if text else local_day(dep.now())


def _actor(dep: Deployment, username: str | None) -> Actor:
    if username is None:
        return dep.system("cli")
    from vigil.store.users import officer_actor

    with dep.store.reader() as session:
        return officer_actor(session, dep.units, username)


@report_app.command("handover")
@handle_errors
def handover(
    data: DataDir = DEFAULT_DATA,
    start: Annotated[
        str | None,
        typer.Option(help="Start, local time, e.g. '2026-03-14 07:00' (default: the shift now)."),
    ] = None,
    end: Annotated[
        str | None, typer.Option(help="End, local time (default: 8 hours after the start).")
    ] = None,
    lang: Lang = None,
    pdf: Pdf = True,
    out: Out = None,
    as_user: AsUser = None,
) -> None:
    """The shift handover report: what came in, what is open or overdue, the outgoing notes.

    Without --start and --end it covers the shift in progress: the roster's, else the standard
    shift (07-15, 15-23 or 23-07 local). One of them alone means 8 hours from or to it.
    """
    from vigil.reports.archive import publish
    from vigil.reports.handover import handover_report, shift_period

    with open_deployment(data) as dep:
        actor = _actor(dep, as_user)
        period = shift_period(
            dep, actor, parse_optional_time(start, "--start"), parse_optional_time(end, "--end")
        )
        report = handover_report(dep, actor, *period, lang or dep.settings.lang)
        for path in publish(dep, actor, report, pdf=pdf, out=out):
            typer.echo(path)


@report_app.command("daily")
@handle_errors
def daily(
    data: DataDir = DEFAULT_DATA,
    day: Annotated[
        str | None, typer.Option("--date", help="The local day, e.g. 2026-03-14 (default: today).")
    ] = None,
    lang: Lang = None,
    pdf: Pdf = True,
    out: Out = None,
    as_user: AsUser = None,
) -> None:
    """The daily situation report for the commander: numbers, trend, units, cases, duty coverage."""
    from vigil.reports.archive import publish
    from vigil.reports.daily import daily_report

    with open_deployment(data) as dep:
        actor = _actor(dep, as_user)
        report = daily_report(dep, actor, report_day(dep, day), lang or dep.settings.lang)
        for path in publish(dep, actor, report, pdf=pdf, out=out):
            typer.echo(path)
