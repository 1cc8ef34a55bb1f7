"""`vigil watchlist`: the official domains, accounts and pages the information watch protects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from vigil.clikit import DEFAULT_DATA, DataDir, console, handle_errors, open_deployment
from vigil.infowatch.cli.common import AsUser, Json, acting
from vigil.infowatch.watchlist import WatchKind

watchlist_app = typer.Typer(
    help="Official domains, accounts and pages to protect.", no_args_is_help=True
)


def mount(app: typer.Typer) -> None:
    app.add_typer(watchlist_app, name="watchlist")


@watchlist_app.command("add")
@handle_errors
def add(
    kind: Annotated[WatchKind, typer.Argument(help="domain, account or page.")],
    value: Annotated[str, typer.Argument(help="The domain, or the account's or page's handle.")],
    owner: Annotated[
        str, typer.Option("--owner", help="Who it belongs to (a unit code or a name).")
    ],
    platform: Annotated[str, typer.Option(help="Platform of an account or page.")] = "",
    name: Annotated[str, typer.Option(help="The name an account or page shows.")] = "",
    picture: Annotated[
        Path | None, typer.Option(help="Its profile picture (perceptual hash kept).")
    ] = None,
    data: DataDir = DEFAULT_DATA,
    as_user: AsUser = None,
) -> None:
    """Add an official domain, account or page (audited)."""
    from vigil.infowatch.pictures import picture_hash
    from vigil.infowatch.watchlist import add_watched

    image_hash = picture_hash(picture) if picture is not None else ""
    with acting(data, as_user) as (_dep, session, actor):
        item = add_watched(
            session, actor, kind, value, owner, platform=platform, name=name, image_hash=image_hash
        )
        console.print(
            f"added {item.kind} {escape(item.value)} (owner {escape(item.owner)})", highlight=False
        )


@watchlist_app.command("list")
@handle_errors
def list_(json_out: Json = False, data: DataDir = DEFAULT_DATA) -> None:
    """The whole watchlist: the shipped reference, the province's, the officers' additions."""
    from vigil.infowatch.watchlist import watchlist

    with open_deployment(data) as dep, dep.store.reader() as session:
        entries = watchlist(session, dep.province)
    if json_out:
        for e in entries:
            typer.echo(json.dumps(e.as_dict(), ensure_ascii=False))
        return
    table = Table("kind", "value", "owner", "source", "name")
    for e in entries:
        table.add_row(
            str(e.kind), escape(e.value), escape(e.owner), escape(e.source), escape(e.name)
        )
    console.print(table)
