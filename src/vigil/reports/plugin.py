"""The report engine's hook: it mounts `vigil report`, the group each room adds its reports to."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import typer

from vigil.plugins import hookimpl


@hookimpl
def vigil_cli(app: typer.Typer) -> None:
    from vigil.reports.cli import report_group

    report_group(app)


@hookimpl
def vigil_locales() -> Iterable[Path]:
    return [Path(__file__).parent / "locales"]
