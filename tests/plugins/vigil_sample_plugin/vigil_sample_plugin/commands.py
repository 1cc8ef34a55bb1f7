"""`vigil sample note TEXT`: leave a note in the sample room's table."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import func, insert, select

from vigil.clikit import DEFAULT_DATA, DataDir, handle_errors, open_deployment
from vigil_sample_plugin.models import sample_notes

sample_app = typer.Typer(help="The sample room's notes.", no_args_is_help=True)


@sample_app.command("note")
@handle_errors
def note(
    text: Annotated[str, typer.Argument(help="What the note says.")],
    data: DataDir = DEFAULT_DATA,
) -> None:
    """Leave a note; prints how many notes there are."""
    with open_deployment(data) as dep, dep.store.session() as session:
        session.execute(insert(sample_notes).values(text=text))
        count = session.scalar(select(func.count()).select_from(sample_notes))
    typer.echo(f"{count} sample notes")
