"""Reading stored posts back from the lake (each post once, its latest copy)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from vigil.infowatch.ingest.schema import DATASET, SCHEMA

if TYPE_CHECKING:
    from vigil.deployment import Deployment

COLUMNS = [f.name for f in SCHEMA if f.name not in ("source", "line")]


def batch_paths(deployment: Deployment) -> dict[str, Path]:
    return {Path(f).stem: Path(f) for f in deployment.lake.files(DATASET)}


def read_batches(paths: Iterable[Path]) -> pa.Table:
    tables = [pq.read_table(p, columns=COLUMNS) for p in paths]
    if not tables:
        return SCHEMA.empty_table().select(COLUMNS)
    return pa.concat_tables(tables, promote_options="default")


def unique_posts(table: pa.Table) -> list[dict[str, Any]]:
    """Rows as dicts, one per (platform, post_id) (the last read wins), in time order."""
    by_key: dict[tuple[str, str], dict[str, Any]] = {}
    for row in table.to_pylist():
        by_key[(row["platform"], row["post_id"])] = row
    return sorted(by_key.values(), key=lambda r: (r["created_at"], r["platform"], r["post_id"]))


def post_key(row: dict[str, Any]) -> str:
    return f"{row['platform']}:{row['post_id']}"
