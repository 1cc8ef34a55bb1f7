"""`vigil report`: the command group every room adds its report commands to, and their options.

A room adds its reports from its `vigil_cli` hook: `report_group(app).command("name")(fn)`. A
report command takes the options below, renders its `Report` and hands it to `archive.publish`,
which writes it and prints nothing: the command echoes the paths, one per line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vigil.core.access import Actor
from vigil.deployment import Deployment

#: The name of the group under the root command.
REPORT_GROUP = "report"

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


def report_group(app: typer.Typer) -> typer.Typer:
    """The `vigil report` group of the root command `app`, made by whichever room asks first."""
    for info in app.registered_groups:
        if info.name == REPORT_GROUP and isinstance(info.typer_instance, typer.Typer):
            return info.typer_instance
    group = typer.Typer(
        help="Reports, in HTML and PDF: one command per report.", no_args_is_help=True
    )
    app.add_typer(group, name=REPORT_GROUP)
    return group


def report_actor(dep: Deployment, username: str | None) -> Actor:
    """Who a report is written as: the officer named by --as, else the system (every unit)."""
    if username is None:
        return dep.system("cli")
    from vigil.store.users import officer_actor

    with dep.store.reader() as session:
        return officer_actor(session, dep.units, username)
