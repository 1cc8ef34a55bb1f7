"""Extension points. Each room of vigil registers through the same hooks as a third-party plugin.

A room takes part by having a `plugin.py` module with hook implementations (found automatically);
outside packages use the `vigil` entry-point group. No central list is edited to add one.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

from vigil.core.finding import Finding

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter
    from sqlalchemy.orm import Session

    from vigil.deployment import Deployment

hookspec = pluggy.HookspecMarker("vigil")
hookimpl = pluggy.HookimplMarker("vigil")


@dataclass
class GroundTruth:
    """A problem the demo planted on purpose, and what must detect it."""

    capability: str
    rule: str
    subject: str
    unit: str
    note: str


@dataclass
class DemoContext:
    """What a demo contributor receives: the deployment, a seeded random source, a size."""

    deployment: Deployment
    seed: int
    persons: int
    truth: list[GroundTruth] = field(default_factory=list)

    def plant(self, capability: str, rule: str, subject: str, unit: str, note: str) -> None:
        self.truth.append(GroundTruth(capability, rule, subject, unit, note))


@dataclass(frozen=True)
class NavItem:
    """A menu entry of a room's page; the label is an English msgid, translated when shown."""

    path: str
    label_key: str
    permission: str = "view"
    #: Place in the menu (lower first); entries of equal order keep their rooms' order.
    order: int = 50


@dataclass
class Detection:
    """What one run of a room's detectors found, and the progress to save with it.

    A detector that remembers what it has looked at (the batches a rule set has scanned, the
    records a quality rule has checked) hands its marks over as `save_progress` instead of
    writing them itself: the caller writes the marks in the same transaction as the findings,
    so a failure in between loses neither (the next run looks again and finds them again).
    """

    findings: list[Finding] = field(default_factory=list)
    save_progress: Callable[[Session], None] | None = None


@dataclass(frozen=True)
class DashboardPanel:
    """A block of the dashboard: `template` rendered with what `context(request, user)` gives.

    `request` is the page's request, `user` the logged-in officer (`vigil.web.deps.WebUser`);
    the context must hold only what that officer may see. Panels are laid out by `order`, and
    one whose `permission` the officer lacks is left out.
    """

    key: str
    template: str
    context: Callable[[Any, Any], Mapping[str, Any]]
    order: int = 50
    permission: str = "view"


class VigilSpec:
    """Every hook a room may implement. A room's `plugin.py` implements the ones it needs; an
    outside package does the same from the module it names under the `vigil` entry point.
    """

    # --- what a room is made of ------------------------------------------------------------

    @hookspec
    def vigil_models(self) -> Iterable[str]:
        """Import paths of the modules that declare this room's tables (SQLAlchemy models on
        `vigil.store.base.Base`), imported before migrations run and before the app starts."""
        raise NotImplementedError

    @hookspec
    def vigil_migrations(self) -> Iterable[Path]:
        """Folders of this room's Alembic revisions; each room's first revision
        `depends_on` the platform's (`0001_platform`)."""
        raise NotImplementedError

    @hookspec
    def vigil_locales(self) -> Iterable[Path]:
        """Folders holding this room's gettext catalogs, one `<lang>.po` per language (English
        is the source language and needs none)."""
        raise NotImplementedError

    @hookspec
    def vigil_templates(self) -> Iterable[Path]:
        """Folders of the Jinja templates this room's pages and dashboard panels use."""
        raise NotImplementedError

    # --- what a room does --------------------------------------------------------------------

    @hookspec
    def vigil_cli(self, app: typer.Typer) -> None:
        """Mount this room's Typer sub-commands on the root `vigil` command."""

    @hookspec
    def vigil_detect(self, deployment: Deployment) -> Detection | Iterable[Finding]:
        """Run this room's detectors over what is stored and return what they found.

        Return a `Detection` when the detectors keep progress marks (so they are saved with the
        findings), or just the findings. Do not write findings to the store here: `vigil
        detect` records them, once, for every room.
        """
        raise NotImplementedError

    @hookspec
    def vigil_routers(self) -> Iterable[APIRouter]:
        """FastAPI routers of this room's pages and `/api` routes. The frame adds the login,
        CSRF and error handling; each route declares the permission it needs
        (`vigil.web.deps`)."""
        raise NotImplementedError

    @hookspec
    def vigil_nav(self) -> Iterable[NavItem]:
        """Menu entries of this room's pages."""
        raise NotImplementedError

    @hookspec
    def vigil_dashboard(self) -> Iterable[DashboardPanel]:
        """Blocks this room adds to the dashboard."""
        raise NotImplementedError

    # --- the demo province -------------------------------------------------------------------

    @hookspec
    def vigil_demo(self, ctx: DemoContext) -> None:
        """Add this room's synthetic data to the demo province and plant its ground truth."""

    @hookspec
    def vigil_demo_order(self) -> int:
        """Order of demo contributors (lower first); the duty room builds after the rest."""
        raise NotImplementedError


def _discover(pm: pluggy.PluginManager) -> None:
    from vigil.store.schema import _PACKAGE_DIR, capability_packages

    for room in capability_packages():
        if (_PACKAGE_DIR / room / "plugin.py").exists():
            pm.register(importlib.import_module(f"vigil.{room}.plugin"), name=f"vigil.{room}")
    pm.load_setuptools_entrypoints("vigil")


@cache
def plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("vigil")
    pm.add_hookspecs(VigilSpec)
    _discover(pm)
    return pm


def capabilities() -> list[str]:
    """Names of the rooms that run detectors."""
    pm = plugin_manager()
    return sorted(
        name.removeprefix("vigil.")
        for name, plugin in pm.list_name_plugin()
        if hasattr(plugin, "vigil_detect")
    )
