"""The database's tables and migrations: the platform's own and each registered room's, brought
up to date together."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData

from vigil.plugins import migration_folders, model_modules
from vigil.store.base import Base
from vigil.store.db import Store

_MIGRATIONS = Path(__file__).parent / "migrations"
#: What is not a room's: the platform's own tables (units, users, findings, audit, indicators)
#: and the revisions creating them. Named here, not found; every room's come through its plugin.
PLATFORM_MODELS = ("vigil.store.models",)
PLATFORM_MIGRATIONS = _MIGRATIONS / "versions"


def load_models() -> MetaData:
    """Import the platform's model modules and every registered room's (`vigil_models`), so
    that Base.metadata holds all tables (Alembic's autogenerate compares against it)."""
    for module in (*PLATFORM_MODELS, *model_modules()):
        importlib.import_module(module)
    return Base.metadata


def version_locations() -> list[str]:
    """The platform's migrations first, then each registered room's (`vigil_migrations`)."""
    return [str(PLATFORM_MIGRATIONS), *(str(folder) for folder in migration_folders())]


def alembic_config(store: Store | None = None) -> Config:
    """Alembic's configuration over every revision; without a store, for reading scripts only."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(version_locations()))
    if store is not None:
        config.set_main_option("sqlalchemy.url", store.url.replace("%", "%%"))
    return config


def script_directory() -> ScriptDirectory:
    """Every revision, the platform's and the registered rooms', as Alembic reads them."""
    return ScriptDirectory.from_config(alembic_config())


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
