"""Fixtures: a small province, a fresh store per test (SQLite, or PostgreSQL where asked)."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from vigil.core.config import Settings, write_secret
from vigil.core.errors import DependencyMissing
from vigil.deployment import Deployment
from vigil.lake.engine import LakeEngine, open_engine
from vigil.lake.spark_engine import SHORT_RUN_SETTINGS
from vigil.monitor.detect.sigma.rules import ConvertedRule
from vigil.monitor.detect.sigma.runner import CompiledRule
from vigil.store.units import sync_units

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

TEST_PROVINCE = """
[province]
code = "P01"
name_vi = "Tỉnh Thử"
name_en = "Test Province"

[[units]]
code = "D01"
kind = "department"
name_vi = "Sở Thông tin và Truyền thông"
name_en = "Department of Information and Communications"

[[units]]
code = "C01"
kind = "commune"
name_vi = "Xã Hòa An"
name_en = "Hoa An Commune"

[[units]]
code = "C01-POL"
kind = "commune_police"
parent = "C01"
name_vi = "Công an xã Hòa An"
name_en = "Hoa An Commune Police"

[[units]]
code = "C02"
kind = "commune"
name_vi = "Xã Phú Lộc"
name_en = "Phu Loc Commune"

[calendar]
name = "Bầu cử thử"
voting_day = 2026-03-15T07:00:00+07:00

[calendar.phases.before]
starts = 2026-01-01T00:00:00+07:00
ends = 2026-03-14T00:00:00+07:00
alert_threshold = "medium"
response_hours = { critical = 2, high = 8, medium = 48, low = 168 }

[calendar.phases.during]
starts = 2026-03-14T00:00:00+07:00
ends = 2026-03-17T00:00:00+07:00
alert_threshold = "low"
response_hours = { critical = 0.5, high = 1, medium = 4, low = 24 }

[calendar.phases.after]
starts = 2026-03-17T00:00:00+07:00
ends = 2026-06-30T00:00:00+07:00
alert_threshold = "high"
response_hours = { critical = 4, high = 24, medium = 72, low = 336 }
"""

#: A moment in the "before" phase; tests pass it as the deployment clock.
BEFORE = datetime(2026, 2, 1, 3, 0, 0)
DURING = datetime(2026, 3, 15, 3, 0, 0)


def compiled(converted: ConvertedRule) -> CompiledRule:
    """A rule just converted, as the runner takes it (without storing it first)."""
    assert converted.sql is not None, converted.error
    return CompiledRule(
        converted.id,
        converted.kind,
        converted.group_key,
        converted.sql,
        tuple(converted.columns),
        converted.prefilter,
    )


def shared_data(*parts: str) -> Path:
    """A folder of ../shared/data, or skip the test saying which one is missing."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"reference data {path} is absent (see ../shared/data/README.md)")
    return path


@pytest.fixture(scope="session")
def pg_server() -> Iterator[object]:
    from tests.pgserver import PostgresServer

    try:
        server = PostgresServer()
        server.start()
    except (RuntimeError, OSError) as e:
        pytest.skip(f"cannot start a throwaway PostgreSQL: {e}")
    yield server
    server.stop()


_db_counter = itertools.count()


def _make_deployment(tmp_path: Path, url: str | None, clock: datetime | None) -> Deployment:
    data = tmp_path / "data"
    data.mkdir(parents=True, exist_ok=True)
    (data / "vigil.toml").write_text(TEST_PROVINCE, encoding="utf-8")
    write_secret(data)
    settings = Settings(data=data, database_url=url, demo=True, cookie_secure=False)
    dep = Deployment.open(settings, clock=clock)
    with dep.store.session() as session:
        sync_units(session, dep.units)
    return dep


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_url(backend: str, request: pytest.FixtureRequest) -> str | None:
    """None means the default SQLite file in the data directory."""
    if backend == "sqlite":
        return None
    server = request.getfixturevalue("pg_server")
    return str(server.create_database(f"t{next(_db_counter)}"))  # type: ignore[attr-defined]


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    """A fresh SQLite deployment of the test province, clock in the 'before' phase."""
    dep = _make_deployment(tmp_path, None, BEFORE)
    yield dep
    dep.close()


@pytest.fixture
def any_deployment(tmp_path: Path, store_url: str | None) -> Iterator[Deployment]:
    """The same deployment on every store backend: SQLite and PostgreSQL."""
    dep = _make_deployment(tmp_path, store_url, BEFORE)
    yield dep
    dep.close()


@pytest.fixture(scope="session")
def spark_engine() -> Iterator[LakeEngine]:
    """One local Spark for the whole run (it takes seconds to start), or a skip naming what
    is missing (pyspark: `make install-test`; Java 17+: `make system-deps-test`)."""
    try:
        engine = open_engine("spark", settings=SHORT_RUN_SETTINGS)
    except DependencyMissing as e:
        pytest.skip(f"the lake's Spark tests need pyspark and Java: {e}")
    yield engine
    engine.close()


@pytest.fixture(params=["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def lake_engine(request: pytest.FixtureRequest) -> Iterator[LakeEngine]:
    """The same test on every lake engine: a fresh DuckDB, and the run's Spark."""
    if request.param == "spark":
        yield request.getfixturevalue("spark_engine")
        return
    engine = open_engine(str(request.param))
    yield engine
    engine.close()


@contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """Serve `app` with uvicorn on a free local port in a thread, for a real browser; yields
    its base URL and stops the server after."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=30)
