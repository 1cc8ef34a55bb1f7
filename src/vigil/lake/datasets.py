"""Datasets on disk: <data>/lake/<dataset>/<batch>.parquet, written once per batch id."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from vigil.core.errors import LakeError
from vigil.lake.dialect import Dialect, dialect_for
from vigil.lake.engine import LakeEngine, open_engine

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_BATCH = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


class Lake:
    """Parquet datasets plus the engine that queries them.

    A batch is written to a temporary file and renamed into place, so a crash never leaves half a
    batch, and a batch id that exists is never written twice: ingest is idempotent and resumable.
    """

    def __init__(
        self, root: Path, engine: str | LakeEngine = "duckdb", **engine_options: Any
    ) -> None:
        """`engine` names the engine to open when first needed, or is one already open (which
        the lake then uses and leaves open: its opener closes it)."""
        self.root = root
        self._engine_options = engine_options
        self._engine: LakeEngine | None = None
        self._owns_engine = isinstance(engine, str)
        if isinstance(engine, str):
            self.engine_name = engine
        else:
            self.engine_name, self._engine = engine.name, engine

    @property
    def engine(self) -> LakeEngine:
        if self._engine is None:
            self._engine = open_engine(self.engine_name, **self._engine_options)
        return self._engine

    @property
    def dialect(self) -> Dialect:
        """How the engine spells the SQL that differs, known without starting the engine."""
        return dialect_for(self.engine_name)

    def _dir(self, dataset: str) -> Path:
        if not _NAME.match(dataset):
            raise LakeError(f"bad dataset name {dataset!r}")
        return self.root / dataset

    def folder(self, dataset: str) -> Path:
        """Where the batches of `dataset` are (and what is kept beside them)."""
        return self._dir(dataset)

    def _batch_path(self, dataset: str, batch_id: str) -> Path:
        if not _BATCH.match(batch_id):
            raise LakeError(f"bad batch id {batch_id!r}")
        return self._dir(dataset) / f"{batch_id}.parquet"

    def has_batch(self, dataset: str, batch_id: str) -> bool:
        return self._batch_path(dataset, batch_id).exists()

    def write(self, dataset: str, table: pa.Table, batch_id: str) -> bool:
        """Write one batch; False (and nothing written) if that batch is already in the lake."""
        path = self._batch_path(dataset, batch_id)
        if path.exists():
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp-{os.getpid()}")
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
        return True

    def files(self, dataset: str) -> list[str]:
        folder = self._dir(dataset)
        if not folder.is_dir():
            return []
        return sorted(str(p) for p in folder.glob("*.parquet"))

    def datasets(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and _NAME.match(p.name))

    def batches(self, dataset: str) -> list[str]:
        return [Path(f).stem for f in self.files(dataset)]

    def rows(self, dataset: str) -> int:
        return sum(pq.ParquetFile(f).metadata.num_rows for f in self.files(dataset))

    def read(self, dataset: str) -> pa.Table:
        files = self.files(dataset)
        if not files:
            raise LakeError(f"dataset {dataset!r} is empty")
        return pa.concat_tables([pq.read_table(f) for f in files], promote_options="default")

    def query(
        self,
        sql: str,
        params: Mapping[str, Any] | None = None,
        *,
        datasets: list[str] | None = None,
    ) -> pa.Table:
        """Run SQL where every dataset (or the ones named) is a view of the same name."""
        for name in datasets if datasets is not None else self.datasets():
            self.engine.register(name, self.files(name))
        return self.engine.query(sql, params)

    def close(self) -> None:
        if self._engine is not None and self._owns_engine:
            self._engine.close()
            self._engine = None
