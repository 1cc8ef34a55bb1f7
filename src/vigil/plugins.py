"""Extension points. Each room of vigil registers through the same hooks as a third-party plugin.

A room (built in or not) is a module of hook implementations named under the `vigil` entry-point
group of its distribution's metadata (`[project.entry-points.vigil]` in pyproject.toml); that is
the one way in. Its tables, migrations, translations and templates are found through its hooks,
never by looking through folders; nothing in the code lists the rooms. The reference of every
hook is docs/plugins.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

from vigil.core.errors import ConfigError
from vigil.core.finding import Finding

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter
    from sqlalchemy.orm import Session

    from vigil.deployment import Deployment

#: The entry-point group every room is registered in, the built-in ones included.
GROUP = "vigil"
#: The distribution that ships the built-in rooms.
BUILTIN_DISTRIBUTION = "vigil-election"

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
class Scenario:
    """An incident scenario a room has a playbook for (its key and titles in both languages):
    what other rooms may ask incident-response plans to cover, without importing that room."""

    key: str
    title_en: str
    title_vi: str


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
    def vigil_label(self) -> str:
        """The room's name as people know it ("Security monitoring"): an English msgid its own
        catalog translates. Findings of the room's capability (the plugin's name) are named by
        it in reports and pages; a room without one is shown by its plugin name."""
        raise NotImplementedError

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

    @hookspec
    def vigil_scenarios(self) -> Iterable[Scenario]:
        """The incident scenarios this room's playbooks cover (key and titles), read by rooms
        that check plans against them (the inspection room's incident-response plan check)."""
        raise NotImplementedError

    # --- the demo province -------------------------------------------------------------------

    @hookspec
    def vigil_demo(self, ctx: DemoContext) -> None:
        """Add this room's synthetic data to the demo province and plant its ground truth."""

    @hookspec
    def vigil_demo_order(self) -> int:
        """Order of demo contributors (lower first); the duty room builds after the rest."""
        raise NotImplementedError


class PluginError(ConfigError):
    """A plugin could not be registered: its entry point does not load, or clashes with another."""

    code = "plugin"


@dataclass(frozen=True)
class PluginOrigin:
    """Where a registered plugin comes from: its entry point and the distribution declaring it."""

    name: str
    module: str
    distribution: str

    @property
    def builtin(self) -> bool:
        return self.distribution == BUILTIN_DISTRIBUTION

    def describe(self) -> str:
        return f"entry point `{self.name} = {self.module}` (group {GROUP!r}) of {self.distribution}"


class VigilPluginManager(pluggy.PluginManager):
    """pluggy's manager with the `VigilSpec` hooks and the origin of every plugin it registered."""

    def __init__(self) -> None:
        super().__init__(GROUP)
        self.add_hookspecs(VigilSpec)
        self.origins: dict[str, PluginOrigin] = {}


def _origin(ep: EntryPoint) -> PluginOrigin:
    dist = getattr(ep, "dist", None)
    return PluginOrigin(ep.name, ep.value, dist.name if dist is not None else "(unknown)")


def _entry_points() -> list[tuple[EntryPoint, PluginOrigin]]:
    """Every `vigil` entry point, built-in rooms first, each set by name: the metadata lists
    them in no guaranteed order, and the hooks are called in the order of registration."""
    found = [(ep, _origin(ep)) for ep in entry_points(group=GROUP)]
    return sorted(found, key=lambda e: (not e[1].builtin, e[1].distribution, e[1].name))


def _load(ep: EntryPoint, origin: PluginOrigin) -> object:
    try:
        return ep.load()
    except Exception as e:  # loading runs the plugin's own code: whatever it raises is reported
        raise PluginError(
            f"the plugin {origin.name!r} could not be loaded from its {origin.describe()}: "
            f"{type(e).__name__}: {e}"
        ) from e


def _register(pm: VigilPluginManager, plugin: object, origin: PluginOrigin) -> None:
    if pm.is_registered(plugin):  # a second entry point naming the same module: hooks once
        return
    if origin.name in pm.origins:
        raise PluginError(
            f"two plugins are named {origin.name!r}: the {pm.origins[origin.name].describe()} "
            f"and the {origin.describe()}; rename one of the entry points"
        )
    try:
        pm.register(plugin, name=origin.name)
    except pluggy.PluginValidationError as e:
        raise PluginError(f"the plugin {origin.name!r} ({origin.describe()}): {e}") from e
    pm.origins[origin.name] = origin


def load_plugins() -> VigilPluginManager:
    """A new manager with every plugin of the `vigil` entry points registered; a plugin that
    cannot be loaded or registered is a `PluginError` saying which and why."""
    pm = VigilPluginManager()
    found = _entry_points()
    if not any(origin.builtin for _ep, origin in found):
        raise PluginError(
            f"no built-in room is registered: {BUILTIN_DISTRIBUTION} is not installed, or was "
            f"installed before its {GROUP!r} entry points were declared; run `pip install -e .` "
            "(or `make install`) again"
        )
    for ep, origin in found:
        _register(pm, _load(ep, origin), origin)
    try:
        pm.check_pending()  # a hook name no specification knows: a typo, said now
    except pluggy.PluginValidationError as e:
        raise PluginError(f"a plugin implements a hook Vigil does not have: {e}") from e
    return pm


@cache
def plugin_manager() -> VigilPluginManager:
    """The plugins of this process, loaded once (`load_plugins`)."""
    return load_plugins()


def capabilities() -> list[str]:
    """Names of the rooms that run detectors."""
    return sorted(impl.plugin_name for impl in plugin_manager().hook.vigil_detect.get_hookimpls())


def contributions(hook: str, pm: pluggy.PluginManager | None = None) -> list[tuple[str, Any]]:
    """What each plugin's implementation of an argument-free `hook` returns, in the order the
    plugins were registered (pluggy itself calls them last-registered first); `pm` defaults to
    this process's plugins."""
    caller = getattr((pm or plugin_manager()).hook, hook)
    return [(impl.plugin_name, impl.function()) for impl in caller.get_hookimpls()]


def _gathered(hook: str, pm: pluggy.PluginManager | None = None) -> list[Any]:
    return [item for _name, items in contributions(hook, pm) if items for item in items]


def capability_labels(pm: pluggy.PluginManager | None = None) -> dict[str, str]:
    """Each room's name for people (`vigil_label`, English msgids), by plugin name."""
    return {name: str(label) for name, label in contributions("vigil_label", pm) if label}


def scenarios(pm: pluggy.PluginManager | None = None) -> list[Scenario]:
    """Every incident scenario the rooms' playbooks cover (`vigil_scenarios`), by key."""
    found = {s.key: s for s in _gathered("vigil_scenarios", pm)}
    return [found[k] for k in sorted(found)]


def model_modules() -> list[str]:
    """Every registered room's model modules (`vigil_models`)."""
    return [str(m) for m in _gathered("vigil_models")]


def migration_folders() -> list[Path]:
    """Every registered room's migration folders (`vigil_migrations`)."""
    return [Path(p) for p in _gathered("vigil_migrations")]


def locale_folders() -> list[Path]:
    """Every registered room's catalog folders (`vigil_locales`)."""
    return [Path(p) for p in _gathered("vigil_locales")]


def template_folders(pm: pluggy.PluginManager | None = None) -> list[Path]:
    """Every registered room's template folders (`vigil_templates`)."""
    return [Path(p) for p in _gathered("vigil_templates", pm)]
