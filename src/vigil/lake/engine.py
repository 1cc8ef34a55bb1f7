"""The engine seam: domain code writes SQL once; DuckDB or Spark runs it.

What the engines spell differently is in each engine's `dialect` (`vigil.lake.dialect`): rooms
ask it for those pieces and never branch on the engine's name.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from vigil.core.errors import LakeError
from vigil.lake.dialect import Dialect

#: The engines `open_engine` knows, the default first.
ENGINES = ("duckdb", "spark")
_VIEW = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_view_name(view: str) -> str:
    """A view name is a plain identifier: it goes into SQL unquoted."""
    if not _VIEW.match(view):
        raise LakeError(f"bad view name {view!r}")
    return view


class LakeEngine(ABC):
    """Runs SQL over datasets registered as views. Parameters are named: `$name` in the SQL."""

    name: str
    #: How this engine spells the SQL that differs between engines.
    dialect: Dialect
    #: Whether `cursor()` gives connections that can run queries at the same time as this one.
    concurrent: bool = False

    def cursor(self) -> LakeEngine:
        """A connection to the same engine with its own registered views (here: itself)."""
        return self

    @abstractmethod
    def register(self, view: str, files: list[str]) -> None:
        """Make `view` a relation over the given Parquet files (empty list: drop the view)."""

    @abstractmethod
    def register_arrow(self, view: str, table: pa.Table) -> None:
        """Make an in-memory Arrow table queryable as `view`."""

    @abstractmethod
    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        """Run `sql` and return the whole result as Arrow."""

    def query_rows(self, sql: str) -> list[tuple[Any, ...]]:
        """Run `sql` and return its rows as tuples: for small results read in Python."""
        return [tuple(row.values()) for row in self.query(sql).to_pylist()]

    @abstractmethod
    def linkage_api(self) -> Any:
        """Splink's database API over this engine's own connection or session, so that record
        linkage runs where the lake's SQL runs and reads the views registered here."""

    @abstractmethod
    def close(self) -> None: ...


def open_engine(name: str, **options: Any) -> LakeEngine:
    """The engine by name; optional engines are imported only when asked for."""
    if name == ENGINES[0]:
        from vigil.lake.duckdb_engine import DuckDBEngine

        return DuckDBEngine(**options)
    if name == ENGINES[1]:
        from vigil.lake.spark_engine import SparkEngine

        return SparkEngine(**options)
    from vigil.core.errors import ConfigError

    raise ConfigError(f"unknown lake engine {name!r}: choose {' or '.join(ENGINES)}")
