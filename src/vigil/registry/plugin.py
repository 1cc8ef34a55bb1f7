"""The registry room's hooks: its tables, migrations, catalog and templates, its commands, its
pages, its quality rules for `vigil detect` and its part of the demo.

The room's entry: the only module that may import any stage (lazily, inside the hooks).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from vigil.plugins import DashboardPanel, Detection, NavItem, hookimpl

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter

    from vigil.deployment import Deployment

_ROOM = Path(__file__).parent


@hookimpl
def vigil_label() -> str:
    return "Population registry"


@hookimpl
def vigil_models() -> Iterable[str]:
    return ["vigil.registry.models", "vigil.registry.voters.models"]


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
    from vigil.registry.cli import mount

    mount(app)


@hookimpl
def vigil_detect(deployment: Deployment) -> Detection:
    """The quality rules over the batches not checked yet; the checked marks are saved by the
    caller with the findings."""
    from vigil.registry.detect import detect_registry

    return detect_registry(deployment)


@hookimpl
def vigil_routers() -> Iterable[APIRouter]:
    """Scorecards, the duplicate review queue and household review (registry/pages); the voter
    lists (registry/voters/pages)."""
    from vigil.registry.pages.routes import router
    from vigil.registry.voters.pages import router as voters_router

    return [router, voters_router]


@hookimpl
def vigil_nav() -> Iterable[NavItem]:
    return [
        NavItem("/registry", "Registry scorecard", order=60),
        NavItem("/registry/duplicates", "Duplicate review queue", order=61),
        NavItem("/registry/voters", "Voter lists", order=62),
    ]


@hookimpl
def vigil_dashboard() -> Iterable[DashboardPanel]:
    """The voter lists of the officer's communes (registry/voters/pages)."""
    from vigil.registry.voters.pages import PANELS

    return PANELS
