"""What every CLI command shares: the --data option, opening a deployment, error exits."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from vigil.core.config import Settings
from vigil.core.errors import VigilError
from vigil.deployment import Deployment

console = Console()
err_console = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")

DataDir = Annotated[
    Path,
    typer.Option(
        "--data",
        envvar="VIGIL_DATA",
        help="Data directory of the deployment.",
        show_default=True,
    ),
]
DEFAULT_DATA = Path("vigil-data")

#: Exit codes scripts can rely on.
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_FOUND = 3  # a check ran and found problems (coverage gaps, overdue cases...)


def settings_for(data: Path) -> Settings:
    return Settings(data=data)


def open_deployment(data: Path) -> Deployment:
    """The deployment in `data`, to use as `with open_deployment(data) as dep:` (closed after)."""
    return Deployment.open(settings_for(data))


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn a VigilError into a red line on stderr and exit code 1."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except VigilError as e:
            err_console.print(f"[red]error:[/red] {e}", highlight=False)
            raise typer.Exit(EXIT_ERROR) from e

    return wrapper


def print_json_lines(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        typer.echo(json.dumps(row, ensure_ascii=False, default=str))
