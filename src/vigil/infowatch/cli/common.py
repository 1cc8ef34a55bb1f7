"""What the room's commands share: acting as an officer, a progress bar, reading inputs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.orm import Session

from vigil.clikit import err_console, open_deployment
from vigil.core.access import Actor
from vigil.core.errors import ValidationError
from vigil.deployment import Deployment
from vigil.infowatch.text import decode_bytes
from vigil.store.users import officer_actor

AsUser = Annotated[
    str | None,
    typer.Option("--as", help="Act as this officer (their role and units apply); default: system."),
]
Json = Annotated[bool, typer.Option("--json", help="One JSON object per line.")]


@contextmanager
def acting(data: Path, as_user: str | None) -> Iterator[tuple[Deployment, Session, Actor]]:
    with open_deployment(data) as dep, dep.store.session() as session:
        actor = officer_actor(session, dep.units, as_user) if as_user else dep.system("cli")
        yield dep, session, actor


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )


def read_queries(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """`{"id", "text"}` a line; a bad line stops with its number (nothing half-answered)."""
    text, _ = decode_bytes(path.read_bytes())
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as e:
            raise ValidationError(f"{path}:{number}: not JSON: {e}") from e
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise ValidationError(f'{path}:{number}: expected {{"id", "text"}}')
        yield number, item
