"""The sample room's hooks: everything it brings, named here and nowhere else."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import typer
from fastapi import APIRouter

from vigil.plugins import NavItem, hookimpl

_HERE = Path(__file__).parent


@hookimpl
def vigil_label() -> str:
    return "Sample notes"


@hookimpl
def vigil_models() -> Iterable[str]:
    return ["vigil_sample_plugin.models"]


@hookimpl
def vigil_migrations() -> Iterable[Path]:
    return [_HERE / "migrations"]


@hookimpl
def vigil_locales() -> Iterable[Path]:
    return [_HERE / "locales"]


@hookimpl
def vigil_templates() -> Iterable[Path]:
    return [_HERE / "templates"]


@hookimpl
def vigil_cli(app: typer.Typer) -> None:
    from vigil_sample_plugin.commands import sample_app

    app.add_typer(sample_app, name="sample")


@hookimpl
def vigil_routers() -> Iterable[APIRouter]:
    from vigil_sample_plugin.pages import router

    return [router]


@hookimpl
def vigil_nav() -> Iterable[NavItem]:
    return [NavItem("/sample", "Sample notes")]
