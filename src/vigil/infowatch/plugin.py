"""The information watch room's hooks: its tables, migrations, catalog and templates, its
commands, pages, detectors for `vigil detect` and its part of the demo.

The room's entry: the only module that may import any stage (lazily, inside the hooks).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from vigil.plugins import DemoContext, Detection, NavItem, hookimpl

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter

    from vigil.deployment import Deployment

_ROOM = Path(__file__).parent


@hookimpl
def vigil_label() -> str:
    return "Information watch"


@hookimpl
def vigil_models() -> Iterable[str]:
    return ["vigil.infowatch.models"]


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
    from vigil.infowatch.cli import infowatch, watchlist

    infowatch.mount(app)
    watchlist.mount(app)


@hookimpl
def vigil_detect(deployment: Deployment) -> Detection:
    """Scam, lookalike domains, false claims and impersonation over the batches not read yet;
    campaigns and narrative spikes over the recent window."""
    from vigil.infowatch.detect.run import detect_stored

    return detect_stored(deployment)


@hookimpl
def vigil_demo(ctx: DemoContext) -> None:
    from vigil.infowatch.demo.build import build_demo

    build_demo(ctx)


@hookimpl
def vigil_routers() -> Iterable[APIRouter]:
    """Triage queue, campaigns, impersonation, claims, advisories, watchlist, the public site."""
    from vigil.infowatch.pages.routes import router

    return [router]


@hookimpl
def vigil_nav() -> Iterable[NavItem]:
    return [
        NavItem("/infowatch/posts", "Post triage"),
        NavItem("/infowatch/advisories", "Advisories"),
    ]
