"""Shared set-up of the benchmarks: a throwaway deployment on SQLite or PostgreSQL."""

from __future__ import annotations

import shutil
import sys
import tempfile
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vigil.core.config import Settings, write_secret  # noqa: E402
from vigil.deployment import Deployment  # noqa: E402
from vigil.store.units import sync_units  # noqa: E402


def make_deployment(database_url: str | None = None) -> Deployment:
    data = Path(tempfile.mkdtemp(prefix="vigil-bench-"))
    with resources.as_file(resources.files("vigil.core").joinpath("vigil.example.toml")) as src:
        shutil.copyfile(src, data / "vigil.toml")
    write_secret(data)
    dep = Deployment.open(Settings(data=data, database_url=database_url, demo=True))
    with dep.store.session() as session:
        sync_units(session, dep.units)
    return dep


def start_postgres() -> object | None:
    """A throwaway PostgreSQL (tests/pgserver.py), or None with a message when it cannot start."""
    from tests.pgserver import PostgresServer

    try:
        server = PostgresServer()
        server.start()
    except (RuntimeError, OSError) as e:
        print(f"PostgreSQL unavailable: {e}")
        return None
    return server
