"""Engines and sessions: SQLite in WAL with BEGIN IMMEDIATE writes, or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from vigil.core.errors import DependencyMissing, StoreError


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, decide when transactions start (see _sqlite_begin).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin_immediate(conn: Any) -> None:
    # One writer at a time: take the write lock up front instead of failing on upgrade.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_begin_deferred(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


def _json_text(value: Any) -> str:
    # orjson: evidence of thousands of findings is written at once, and the standard encoder
    # was a fifth of storing them (measured). Integer keys become text, as json.dumps does.
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def make_engine(url: str, *, readonly: bool = False, **kwargs: Any) -> Engine:
    """An engine for `url`; on SQLite, `readonly` engines read in parallel with the writer."""
    parsed = make_url(url)
    kwargs = {"json_serializer": _json_text, "json_deserializer": orjson.loads, **kwargs}
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        begin = _sqlite_begin_deferred if readonly else _sqlite_begin_immediate
        event.listen(engine, "begin", begin)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("", "psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        return create_engine(parsed, pool_pre_ping=True, **kwargs)
    except (ModuleNotFoundError, NoSuchModuleError) as e:
        raise DependencyMissing("psycopg", "vigil-election[postgres]") from e


class Store:
    """The operational database of one deployment."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.read_engine = (
            make_engine(url, readonly=True, **engine_kwargs)
            if self.engine.dialect.name == "sqlite"
            else self.engine
        )
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._readers = sessionmaker(self.read_engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A read-only unit of work; on SQLite it does not wait for the writer."""
        with self._readers() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()


def store_error(e: SQLAlchemyError, doing: str, then: str = "") -> StoreError:
    """A failure of the store said in one line: what was being done, the database's own words
    (not the SQL and its parameters), and what happens next."""
    cause = getattr(e, "orig", None) or e
    words = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    message = f"{doing}: the database refused ({type(cause).__name__}: {words})"
    return StoreError(f"{message}; {then}" if then else message)
