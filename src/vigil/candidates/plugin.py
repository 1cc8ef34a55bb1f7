"""The candidates room's hooks: its table and migration, catalog, templates, commands, pages,
its detector for `vigil detect` and its part of the demo.

The room's entry: the only module that imports its stages, lazily, inside the hooks.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from vigil.plugins import DashboardPanel, DemoContext, Detection, NavItem, hookimpl

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter

    from vigil.deployment import Deployment

_ROOM = Path(__file__).parent


@hookimpl
def vigil_label() -> str:
    return "Candidate checks"


@hookimpl
def vigil_models() -> Iterable[str]:
    return ["vigil.candidates.models"]


@hookimpl
def vigil_migrations() -> Iterable[Path]:
    return [_ROOM / "migrations"]


@hookimpl
def vigil_locales() -> Iterable[Path]:
    return [_ROOM / "locales"]


@hookimpl
def vigil_templates() -> Iterable[Path]:
    return [_ROOM / "templates"]


@hookimpl
def vigil_cli(app: typer.Typer) -> None:
    from vigil.candidates import cli

    cli.mount(app)


@hookimpl
def vigil_detect(deployment: Deployment) -> Detection:
    """Every candidate's latest declaration against the registry; statuses saved with the
    findings."""
    from vigil.candidates.detect import detect

    return detect(deployment)


@hookimpl
def vigil_demo(ctx: DemoContext) -> None:
    from vigil.candidates.demo import build_demo

    build_demo(ctx)


@hookimpl
def vigil_demo_order() -> int:
    # After the population (built before every contributor), before the duty room (90).
    return 60


@hookimpl
def vigil_routers() -> Iterable[APIRouter]:
    """The candidate list and each candidate's mismatches (candidates/pages/routes.py), and the
    report's download."""
    from vigil.candidates.pages.routes import router

    return [router]


@hookimpl
def vigil_nav() -> Iterable[NavItem]:
    return [NavItem("/candidates", "Candidates")]


@hookimpl
def vigil_dashboard() -> Iterable[DashboardPanel]:
    from vigil.candidates.pages.routes import PANELS

    return PANELS
