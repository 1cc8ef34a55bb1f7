"""Extension points. Each room of vigil registers through the same hooks as a third-party plugin.

A room takes part by having a `plugin.py` module with hook implementations (found automatically);
outside packages use the `vigil` entry-point group. No central list is edited to add one.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

from vigil.core.finding import Finding

if TYPE_CHECKING:
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
    path: str
    label_key: str  # translated in the page
    permission: str = "view"


class VigilSpec:
    @hookspec
    def vigil_cli(self, app: Any) -> None:
        """Mount this capability's Typer sub-commands on the root `app`."""

    @hookspec
    def vigil_detect(self, deployment: Deployment) -> Iterable[Finding]:
        """Run this capability's detectors over what is stored; return the findings."""
        raise NotImplementedError

    @hookspec
    def vigil_demo(self, ctx: DemoContext) -> None:
        """Add this capability's synthetic data to the demo province and plant ground truth."""

    @hookspec
    def vigil_demo_order(self) -> int:
        """Order of demo contributors (lower first); the duty room builds after the rest."""
        raise NotImplementedError

    @hookspec
    def vigil_routers(self) -> Iterable[Any]:
        """FastAPI routers of this capability (pages and /api routes)."""
        raise NotImplementedError

    @hookspec
    def vigil_nav(self) -> Iterable[NavItem]:
        """Menu entries of this capability's pages."""
        raise NotImplementedError

    @hookspec
    def vigil_templates(self) -> Iterable[Path]:
        """Folders of Jinja templates this capability's pages use."""
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
