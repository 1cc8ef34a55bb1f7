"""Finds every capability's tables and migrations, and brings a database up to date."""

from __future__ import annotations

import importlib
import os
import pkgutil
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData

import vigil
from vigil.store.base import Base
from vigil.store.db import Store

_PACKAGE_DIR = Path(vigil.__file__).parent


def capability_packages() -> list[str]:
    """Top-level rooms of vigil (core, store, cases, monitor...), in name order."""
    return sorted(m.name for m in pkgutil.iter_modules(vigil.__path__) if m.ispkg)


def load_models() -> MetaData:
    """Import every `vigil.<room>.models` so that Base.metadata holds all tables."""
    for name in capability_packages():
        if (_PACKAGE_DIR / name / "models.py").exists():
            importlib.import_module(f"vigil.{name}.models")
    return Base.metadata


def version_locations() -> list[str]:
    """The platform's migrations first, then each capability's own `migrations/` folder."""
    locations = [str(_PACKAGE_DIR / "store" / "migrations" / "versions")]
    for name in capability_packages():
        folder = _PACKAGE_DIR / name / "migrations"
        if name != "store" and folder.is_dir():
            locations.append(str(folder))
    return locations


def alembic_config(store: Store) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_PACKAGE_DIR / "store" / "migrations"))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(version_locations()))
    config.set_main_option("sqlalchemy.url", store.url.replace("%", "%%"))
    return config


def migrate(store: Store) -> None:
    """Bring the database to the newest revision of every capability (idempotent)."""
    config = alembic_config(store)
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")


def pending_heads(store: Store) -> set[str]:
    """Heads not yet applied: empty when the schema is current."""
    config = alembic_config(store)
    script = ScriptDirectory.from_config(config)
    with store.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    # Alembic records only the newest revisions: a head that a room `depends_on` (0001_platform)
    # is applied when it is an ancestor of a recorded one, though no longer recorded itself.
    applied: set[str] = set()
    if current:
        applied = {r.revision for r in script.revision_map.iterate_revisions(current, "base")}
    return set(script.get_heads()) - applied
