"""`vigil candidates import`: declaration files into the lake, once each, bad rows quarantined.

Declarations live in the lake dataset `candidate_declarations`, next to the registry they are
checked against: the check joins the two in the lake engine, and `lake.batches` already makes
a file's import idempotent (the same content twice adds nothing) and resumable. A candidate
declared again in a later file is taken from the latest file (`latest_declarations`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from vigil.candidates.declarations import Declaration, read_declarations
from vigil.candidates.mapping import Mapping
from vigil.core.problems import InputProblem
from vigil.deployment import Deployment
from vigil.lake.batches import BatchFile, BatchIndex, file_hash
from vigil.lake.datasets import Lake
from vigil.lake.quarantine import QuarantineEntry

DATASET = "candidate_declarations"
SCHEMA = pa.schema(
    [
        ("candidate_id", pa.string()),
        ("full_name", pa.string()),
        ("birth_date", pa.date32()),
        ("citizen_id", pa.string()),
        ("commune", pa.string()),
        ("address", pa.string()),
        ("spouse", pa.list_(pa.string())),
        ("parents", pa.list_(pa.string())),
        ("children", pa.list_(pa.string())),
        ("source", pa.string()),
        ("line", pa.int64()),
        ("imported_at", pa.timestamp("us")),
    ]
)

#: Called as progress(done, total) with numbers of rows.
Progress = Callable[[int, int], None]


@dataclass
class ImportResult:
    path: str
    encoding: str = ""
    rows: int = 0
    imported: int = 0
    already: bool = False
    problems: list[InputProblem] = field(default_factory=list)

    @property
    def quarantined(self) -> int:
        return sum(1 for p in self.problems if p.is_error)


def declarations_table(
    declarations: list[Declaration], source: str, imported_at: datetime
) -> pa.Table:
    columns: dict[str, list[object]] = {name: [] for name in SCHEMA.names}
    for d in declarations:
        for name in ("candidate_id", "full_name", "birth_date", "citizen_id", "commune"):
            columns[name].append(getattr(d, name))
        columns["address"].append(d.address)
        for name in ("spouse", "parents", "children"):
            columns[name].append(list(getattr(d, name)))
        columns["source"].append(source)
        columns["line"].append(d.line)
        columns["imported_at"].append(imported_at.replace(tzinfo=None))
    return pa.table(columns, schema=SCHEMA)


def import_declarations(
    dep: Deployment, path: Path, mapping: Mapping, progress: Progress | None = None
) -> ImportResult:
    """Read `path` and add its declarations to the lake, unless this content is already there."""
    result = ImportResult(str(path))
    with BatchIndex.open(dep.lake, DATASET) as index:
        stat = path.stat()
        sha = index.known_hash(str(path), stat.st_size, stat.st_mtime_ns) or file_hash(path)
        index.remember(str(path), stat.st_size, stat.st_mtime_ns, sha)
        if index.holds(sha):
            result.already = True
            return result
        read = read_declarations(path, mapping)
        result.encoding, result.rows, result.problems = read.encoding, read.rows, read.problems
        if progress:
            progress(read.rows, read.rows)
        table = declarations_table(read.declarations, str(path), dep.now())
        entries = [QuarantineEntry.of(DATASET, p) for p in read.problems if p.is_error]
        index.write(table, [BatchFile(sha, str(path), "declarations", 0, table.num_rows, entries)])
        for entry in entries:
            dep.quarantine.add(entry)
        result.imported = table.num_rows
    return result


def latest_declarations(lake: Lake) -> list[Declaration]:
    """Each candidate's declaration from the latest file that declares them."""
    if not lake.files(DATASET):
        return []
    table = lake.query(
        f"SELECT * FROM {DATASET} ORDER BY imported_at, source, line", datasets=[DATASET]
    )
    latest: dict[str, Declaration] = {}
    for row in table.to_pylist():
        latest[row["candidate_id"]] = Declaration(
            candidate_id=row["candidate_id"],
            full_name=row["full_name"],
            birth_date=row["birth_date"],
            citizen_id=row["citizen_id"],
            commune=row["commune"],
            address=row["address"],
            spouse=tuple(row["spouse"] or ()),
            parents=tuple(row["parents"] or ()),
            children=tuple(row["children"] or ()),
            line=row["line"],
        )
    return [latest[k] for k in sorted(latest)]
