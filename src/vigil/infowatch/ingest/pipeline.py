"""`vigil infowatch ingest`: files of posts into the lake, once each (by content hash).

One run writes one batch of every new file's rows (`lake.batches`): the same file again adds
nothing, a stopped run leaves no half batch. Bad records are kept in the quarantine with file,
line and reason; the rest of the file goes in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from vigil.infowatch.ingest.schema import DATASET, SCHEMA
from vigil.infowatch.ingest.sources import read_file
from vigil.infowatch.language import detect_languages
from vigil.lake.batches import BatchFile, BatchIndex, file_hash
from vigil.lake.quarantine import QuarantineEntry

if TYPE_CHECKING:
    from vigil.deployment import Deployment

Progress = Callable[[int, int], None]


@dataclass
class FileOutcome:
    path: str
    source: str
    rows: int = 0
    quarantined: int = 0
    skipped: bool = False


@dataclass
class IngestResult:
    files: list[FileOutcome] = field(default_factory=list)
    batch: str | None = None

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def quarantined(self) -> int:
        return sum(f.quarantined for f in self.files)

    @property
    def skipped(self) -> int:
        return sum(f.skipped for f in self.files)


def expand(paths: Iterable[Path]) -> Iterator[Path]:
    """Files named, and the files under folders named, in a stable order."""
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")
            )
        else:
            yield path


def rows_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Rows of `infowatch_posts` as an Arrow table, their language detected."""
    for row, lang in zip(rows, detect_languages([r["text"] for r in rows]), strict=True):
        row["lang"] = lang
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def ingest_paths(
    deployment: Deployment, paths: Iterable[Path], progress: Progress | None = None
) -> IngestResult:
    """Read every new file under `paths` into one batch of `infowatch_posts`."""
    files = list(expand(paths))
    result = IngestResult()
    with BatchIndex.open(deployment.lake, DATASET) as index:
        held: list[BatchFile] = []
        rows: list[dict[str, Any]] = []
        for done, path in enumerate(files, start=1):
            stat = path.stat()
            sha = index.known_hash(str(path), stat.st_size, stat.st_mtime_ns) or file_hash(path)
            index.remember(str(path), stat.st_size, stat.st_mtime_ns, sha)
            if index.holds(sha) or sha in {f.sha for f in held}:
                result.files.append(FileOutcome(str(path), "", skipped=True))
            else:
                source, read, bad = read_file(path)
                for line, row in read:
                    rows.append({**row, "source": str(path), "line": line})
                held.append(
                    BatchFile(sha, str(path), source, len(rows) - len(read), len(read), bad)
                )
                result.files.append(FileOutcome(str(path), source, len(read), len(bad)))
            if progress:
                progress(done, len(files))
        if held:
            result.batch = index.write(rows_table(rows), held)
            for batch_file in held:
                _keep(deployment, batch_file.quarantine)
    return result


def _keep(deployment: Deployment, entries: list[QuarantineEntry]) -> None:
    for entry in entries:
        deployment.quarantine.add(entry)
