"""`vigil report handover` and `vigil report daily`: write a report and print where it went.

`mount` adds the two commands to the `vigil report` group of the reports engine.
"""

from __future__ import annotations

from typing import Annotated

import typer

from vigil.clikit import DEFAULT_DATA, DataDir, handle_errors, open_deployment
from vigil.core.clock import parse_optional_time
from vigil.reports.cli import AsUser, Lang, Out, Pdf, report_actor, report_group


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
    from vigil.cases.reports.handover import handover_report, shift_period
    from vigil.reports.archive import publish

    with open_deployment(data) as dep:
        actor = report_actor(dep, as_user)
        period = shift_period(
            dep, actor, parse_optional_time(start, "--start"), parse_optional_time(end, "--end")
        )
        report = handover_report(dep, actor, *period, lang or dep.settings.lang)
        for path in publish(dep, actor, report, pdf=pdf, out=out):
            typer.echo(path)


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
    from vigil.cases.reports.daily import daily_report, report_day
    from vigil.reports.archive import publish

    with open_deployment(data) as dep:
        actor = report_actor(dep, as_user)
        report = daily_report(dep, actor, report_day(dep, day), lang or dep.settings.lang)
        for path in publish(dep, actor, report, pdf=pdf, out=out):
            typer.echo(path)


def mount(app: typer.Typer) -> None:
    """`vigil report handover` and `vigil report daily` on the root command `app`."""
    group = report_group(app)
    group.command("handover")(handover)
    group.command("daily")(daily)
