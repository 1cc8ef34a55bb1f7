"""The demo room's hooks: it mounts `vigil demo` and brings its catalog (its own data is built
directly, not by hook)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import typer

from vigil.plugins import hookimpl


@hookimpl
def vigil_cli(app: typer.Typer) -> None:
    from vigil.demo.cli import demo

    app.command("demo")(demo)


@hookimpl
def vigil_locales() -> Iterable[Path]:
    return [Path(__file__).parent / "locales"]
