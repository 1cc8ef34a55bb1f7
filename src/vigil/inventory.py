"""What each registered plugin brought into Vigil through the hooks: the evidence `vigil plugins`
shows, read from the hooks themselves rather than from folders or a list kept by hand."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import typer
from sqlalchemy import Table
from typer.main import get_command_name

from vigil.plugins import NavItem, VigilPluginManager, plugin_manager
from vigil.store.base import Base
from vigil.store.schema import script_directory


@dataclass
class PluginInventory:
    """One registered plugin and what it registered, hook by hook."""

    name: str
    module: str
    distribution: str
    #: The room's name for people (`vigil_label`), an English msgid; empty if it gives none.
    label: str = ""
    #: Sub-commands mounted on the root `vigil` command (`vigil_cli`).
    commands: list[str] = field(default_factory=list)
    #: "METHOD /path" of every route of its routers (`vigil_routers`).
    routes: list[str] = field(default_factory=list)
    nav: list[dict[str, Any]] = field(default_factory=list)
    dashboard: list[str] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)
    #: One entry per folder: {"folder": ..., "revisions": [oldest first]}.
    migrations: list[dict[str, Any]] = field(default_factory=list)
    #: One entry per catalog: {"language": ..., "catalog": ...}.
    translations: list[dict[str, str]] = field(default_factory=list)
    #: Table names declared by its model modules (`vigil_models`).
    models: list[str] = field(default_factory=list)
    detectors: bool = False
    demo: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> list[tuple[str, str]]:
        """(hook, what it registered) rows for a person to read; folders shown from the
        plugin's top package down (vigil/monitor/templates)."""
        short = _shortener(self.module)
        migrations = [f"{short(m['folder'])}: {', '.join(m['revisions'])}" for m in self.migrations]
        rows = [
            ("vigil_label", self.label),
            ("vigil_cli", ", ".join(self.commands)),
            ("vigil_routers", "\n".join(self.routes)),
            ("vigil_nav", "\n".join(f"{n['path']}  {n['label']}" for n in self.nav)),
            ("vigil_dashboard", ", ".join(self.dashboard)),
            ("vigil_templates", "\n".join(short(t) for t in self.templates)),
            ("vigil_migrations", "\n".join(migrations)),
            ("vigil_locales", "\n".join(short(t["catalog"]) for t in self.translations)),
            ("vigil_models", ", ".join(self.models)),
            ("vigil_detect", "yes" if self.detectors else ""),
            ("vigil_demo", "yes" if self.demo else ""),
        ]
        return [(hook, text) for hook, text in rows if text]


def _shortener(module: str) -> Callable[[str], str]:
    top = importlib.util.find_spec(module.split(".")[0])
    origin = top.origin if top is not None else None
    base = Path(origin).resolve().parent.parent if origin else None

    def short(path: str) -> str:
        if base is not None and Path(path).resolve().is_relative_to(base):
            return str(Path(path).resolve().relative_to(base))
        return path

    return short


def _impl(pm: VigilPluginManager, hook: str, plugin: str) -> Callable[..., Any] | None:
    for impl in getattr(pm.hook, hook).get_hookimpls():
        if impl.plugin_name == plugin:
            function: Callable[..., Any] = impl.function
            return function
    return None


def _items(pm: VigilPluginManager, hook: str, plugin: str) -> list[Any]:
    function = _impl(pm, hook, plugin)
    return list(function() or []) if function is not None else []


def _commands(pm: VigilPluginManager, plugin: str) -> list[str]:
    """Mount the plugin's commands on an empty root of its own, and read what it added."""
    function = _impl(pm, "vigil_cli", plugin)
    if function is None:
        return []
    root = typer.Typer()
    function(app=root)
    names = [
        c.name or get_command_name(c.callback.__name__)
        for c in root.registered_commands
        if c.callback is not None
    ]
    return sorted([*names, *(g.name for g in root.registered_groups if g.name)])


def _routes(routers: Iterable[Any]) -> list[str]:
    return [
        f"{method} {route.path}"
        for router in routers
        for route in router.routes
        for method in sorted(getattr(route, "methods", None) or ["*"])
    ]


def _tables(modules: Iterable[str]) -> list[str]:
    """The tables each model module declares on the shared metadata: its mapped classes' and
    the plain `Table`s it defines."""
    names: set[str] = set()
    for name in modules:
        module = importlib.import_module(name)
        for value in vars(module).values():
            if isinstance(value, Table) and value.metadata is Base.metadata:
                names.add(value.name)
            elif isinstance(value, type) and value.__module__ == name:
                table = getattr(value, "__table__", None)
                if isinstance(table, Table):
                    names.add(table.name)
    return sorted(names)


def _revisions_by_folder() -> dict[Path, list[str]]:
    """Every revision id under the folder holding it, oldest first."""
    by_folder: dict[Path, list[str]] = {}
    for script in reversed(list(script_directory().walk_revisions())):
        by_folder.setdefault(Path(script.path).resolve().parent, []).append(script.revision)
    return by_folder


def _translations(folders: Iterable[Path]) -> list[dict[str, str]]:
    return [
        {"language": po.stem, "catalog": str(po)}
        for folder in folders
        for po in sorted(Path(folder).glob("*.po"))
    ]


def _nav(items: Iterable[NavItem]) -> list[dict[str, Any]]:
    return [
        {"path": i.path, "label": i.label_key, "permission": i.permission, "order": i.order}
        for i in items
    ]


def inventory(pm: VigilPluginManager | None = None) -> list[PluginInventory]:
    """Every registered plugin, in registration order, with what it registered."""
    pm = pm or plugin_manager()
    revisions = _revisions_by_folder()
    found = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:  # blocked by name: registered nothing
            continue
        origin = pm.origins.get(name)
        migrations = [Path(p) for p in _items(pm, "vigil_migrations", name)]
        label = _impl(pm, "vigil_label", name)
        found.append(
            PluginInventory(
                name=name,
                module=origin.module if origin else getattr(plugin, "__name__", repr(plugin)),
                distribution=origin.distribution if origin else "(registered in code)",
                label=str(label()) if label is not None else "",
                commands=_commands(pm, name),
                routes=_routes(_items(pm, "vigil_routers", name)),
                nav=_nav(_items(pm, "vigil_nav", name)),
                dashboard=[panel.key for panel in _items(pm, "vigil_dashboard", name)],
                templates=[str(p) for p in _items(pm, "vigil_templates", name)],
                migrations=[
                    {"folder": str(f), "revisions": revisions.get(f.resolve(), [])}
                    for f in migrations
                ],
                translations=_translations(_items(pm, "vigil_locales", name)),
                models=_tables(str(m) for m in _items(pm, "vigil_models", name)),
                detectors=_impl(pm, "vigil_detect", name) is not None,
                demo=_impl(pm, "vigil_demo", name) is not None,
            )
        )
    return found
