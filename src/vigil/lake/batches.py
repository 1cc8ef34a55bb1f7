"""Which source files each batch of a lake dataset holds: the same file twice adds nothing.

Any room that ingests files (log files, registry extracts, exports of posts) into a dataset of
its own gets from here what makes an ingest idempotent and resumable. One ingest writes one
batch holding many files (a Parquet file per batch costs more than parsing a small file). The
batch carries, in its Parquet metadata, the files it holds: content hash, path, rows and
quarantine entries. That metadata is the truth. An index beside the batches (one JSON line per
batch) answers "is this file in the dataset?" without opening every batch; a batch the index
lacks (the ingest stopped between writing it and indexing it, or an older version wrote one
batch per file) is indexed from its metadata the next time the index is opened. The index is
held under a lock while open, so two ingests into one dataset take turns.

A new room's ingest uses it so (`people` a dataset of its own, `read` its parser):

    with BatchIndex.open(deployment.lake, "people") as index:
        files, tables = [], []
        for path in paths:
            stat = path.stat()
            name = str(path)
            sha = index.known_hash(name, stat.st_size, stat.st_mtime_ns) or file_hash(path)
            if not index.holds(sha):              # the same content twice adds nothing
                table, bad = read(path)           # bad records: QuarantineEntry, with reasons
                first = sum(t.num_rows for t in tables)
                files.append(BatchFile(sha, name, "csv", first, table.num_rows, bad))
                tables.append(table)
            index.remember(name, stat.st_size, stat.st_mtime_ns, sha)  # not hashed again
        if files:
            index.write(pa.concat_tables(tables), files)  # in the lake, then in the index

A stop anywhere leaves either no batch or a whole one, which the next run recognises; the next
run also clears what a killed one left half-written.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from vigil.lake.datasets import Lake
from vigil.lake.quarantine import QuarantineEntry

if sys.platform != "win32":
    import fcntl

#: Parquet metadata key of the files a batch holds.
FILES_KEY = "vigil.files"
#: Metadata key of a one-file batch of earlier versions: that file's quarantine entries.
QUARANTINE_KEY = "vigil.quarantine"
INDEX_NAME = "_files.jsonl"
#: Beside the index: per file path whose records were read again after it changed (a log
#: rewritten in place), the ids of the records of its latest version (one Parquet file each,
#: named by the path's hash), so that the next version keeps only records not seen before.
RECORDS_DIR = "_records"
#: Parquet metadata key of such a file: the content hash of the version it describes.
RECORDS_SHA_KEY = b"vigil.sha"
#: Beside the index: the content hash of each file path at a size and modification time, so
#: that files seen before and unchanged since are not read again (a watched folder is listed
#: every few seconds).
SEEN_NAME = "_seen.jsonl"


@dataclass
class BatchFile:
    """One source file inside a batch: its rows are `first` to `first + rows - 1`."""

    sha: str
    path: str
    source: str
    first: int
    rows: int
    quarantine: list[QuarantineEntry] = field(default_factory=list)
    #: The rows come from the file's bytes after this offset: what was appended to it since an
    #: earlier batch took the bytes before (whose hash that batch holds).
    offset: int = 0


def file_hash(path: Path) -> str:
    """The content hash that identifies a source file."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def batch_id(shas: Iterable[str]) -> str:
    """A batch is named by the files it holds, in order: the same files give the same batch."""
    digest = hashlib.sha256()
    for sha in shas:
        digest.update(bytes.fromhex(sha))
    return digest.hexdigest()


def _entry_json(entry: QuarantineEntry) -> dict[str, Any]:
    return {k: v for k, v in asdict(entry).items() if k != "at"}


def files_metadata(files: list[BatchFile]) -> dict[str, str]:
    """The Parquet metadata a batch carries about its files."""
    items = [
        {
            "sha": f.sha,
            "path": f.path,
            "source": f.source,
            "first": f.first,
            "rows": f.rows,
            "quarantine": [_entry_json(e) for e in f.quarantine],
            "offset": f.offset,
        }
        for f in files
    ]
    return {FILES_KEY: json.dumps(items, ensure_ascii=False)}


def batch_files(path: Path) -> list[BatchFile]:
    """The files a batch holds, from its metadata (an older one-file batch: its own hash)."""
    metadata = pq.read_schema(path).metadata or {}
    raw = metadata.get(FILES_KEY.encode())
    if raw is not None:
        return [
            BatchFile(
                item["sha"],
                item["path"],
                item["source"],
                item["first"],
                item["rows"],
                [QuarantineEntry(**e) for e in item["quarantine"]],
                item.get("offset", 0),
            )
            for item in json.loads(raw)
        ]
    old = metadata.get(QUARANTINE_KEY.encode())
    entries = [QuarantineEntry(**e) for e in json.loads(old)] if old else []
    rows = pq.read_metadata(path).num_rows
    return [BatchFile(path.stem, "", "", 0, rows, entries)]


class BatchIndex:
    """The file hash -> batch index of one dataset, held under a lock while open."""

    def __init__(
        self, lake: Lake, dataset: str, handle: IO[str], seen: IO[str] | None = None, key: str = ""
    ) -> None:
        self.lake = lake
        self.dataset = dataset
        self.folder = lake.folder(dataset)
        #: The column that identifies a record in this dataset (see `keep_records`).
        self.key = key
        self._handle = handle
        self._seen_handle = seen
        self._seen: dict[str, tuple[int, int, str]] = {}
        if seen is not None:
            seen.seek(0)
            for line in seen:
                try:
                    item = json.loads(line)
                    self._seen[item["path"]] = (item["size"], item["mtime_ns"], item["sha"])
                except (ValueError, KeyError, TypeError):
                    continue  # a line cut short by a stop: that file is hashed again
        self._batch_of: dict[str, str] = {}
        self._batches: set[str] = set()
        self._files: dict[str, dict[str, BatchFile]] = {}
        handle.seek(0)
        for line in handle:
            if line.strip():
                item = json.loads(line)
                self._note(item["batch"], item["files"])
        for path in sorted(self.folder.glob("*.parquet")):
            if path.stem not in self._batches:
                self.add(path.stem, list(self.files(path.stem)))

    @classmethod
    @contextmanager
    def open(cls, lake: Lake, dataset: str, *, key: str = "") -> Iterator[BatchIndex]:
        """The index of `dataset`, locked against another ingest into it until closed.

        `key` names the column that identifies a record, for datasets whose files are rewritten
        in place (`keep_records`). What a killed ingest left half-written is cleared here: the
        lock says no other ingest is writing.
        """
        folder = lake.folder(dataset)
        folder.mkdir(parents=True, exist_ok=True)
        with (
            (folder / INDEX_NAME).open("a+", encoding="utf-8") as handle,
            (folder / SEEN_NAME).open("a+", encoding="utf-8") as seen,
        ):
            if sys.platform != "win32":
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            _clear_leftovers(folder)
            index = cls(lake, dataset, handle, seen, key)
            try:
                yield index
            finally:
                seen.flush()

    def inherited(self) -> tuple[int, ...]:
        """The descriptors a process forked while the index is open must close, so that the
        lock goes with the process that opened it, not with its children."""
        handles = (self._handle, self._seen_handle)
        return tuple(h.fileno() for h in handles if h is not None)

    def _note(self, batch: str, shas: list[str]) -> None:
        self._batches.add(batch)
        for sha in shas:
            self._batch_of.setdefault(sha, batch)

    def batch_of(self, sha: str) -> str | None:
        """The batch that holds the file with this hash, if any."""
        return self._batch_of.get(sha)

    def holds(self, sha: str) -> bool:
        """Whether the dataset holds the file with this content hash."""
        return sha in self._batch_of

    def shas(self) -> frozenset[str]:
        """The hashes of every file the dataset holds."""
        return frozenset(self._batch_of)

    def known_hash(self, path: str, size: int, mtime_ns: int) -> str | None:
        """The content hash of the file at `path`, if it was hashed at this size and time."""
        found = self._seen.get(path)
        if found is None or found[:2] != (size, mtime_ns):
            return None
        return found[2]

    def previous(self, path: str) -> tuple[int, str] | None:
        """The size and content hash the file at `path` had when last seen, if ever."""
        found = self._seen.get(path)
        return None if found is None else (found[0], found[2])

    def remember(self, path: str, size: int, mtime_ns: int, sha: str) -> None:
        """Note a file's hash at its size and time (written when the index closes)."""
        if self._seen.get(path) == (size, mtime_ns, sha):
            return
        self._seen[path] = (size, mtime_ns, sha)
        if self._seen_handle is not None:
            record = {"path": path, "size": size, "mtime_ns": mtime_ns, "sha": sha}
            self._seen_handle.write(json.dumps(record, ensure_ascii=False) + "\n")

    def records_path(self, path: str) -> Path:
        """Where the ids of the latest version of the file at `path` are kept, once it changed."""
        name = hashlib.sha256(path.encode("utf-8", "surrogatepass")).hexdigest()[:40]
        return self.folder / RECORDS_DIR / f"{name}.parquet"

    def records_sha(self, path: str) -> str | None:
        """The version (content hash) whose record ids are kept for `path`, if any."""
        found = self.records_path(path)
        if not found.exists():
            return None
        try:
            metadata = pq.read_schema(found).metadata or {}
        except (OSError, ValueError):  # pyarrow's errors: a file cut short is no record
            return None
        sha = metadata.get(RECORDS_SHA_KEY)
        return sha.decode() if sha else None

    def held_records(self, path: str, sha: str) -> tuple[str, int, int | None] | None:
        """Where to read the ids of the records the version `sha` of `path` held: its own
        kept ids, or its rows in the batch that holds it (a version read whole, not after
        an offset); None if neither is known."""
        if self.records_sha(path) == sha:
            return str(self.records_path(path)), 0, None
        batch = self.batch_of(sha)
        held = self.files(batch).get(sha) if batch is not None else None
        if held is None or held.offset:
            return None
        return str(self.folder / f"{batch}.parquet"), held.first, held.rows

    def keep_records(self, path: str, sha: str, ids: list[str]) -> None:
        """Keep the record ids of the version `sha` of `path` (after its batch is written)."""
        target = self.records_path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        table = pa.table({self.key: pa.array(ids, pa.string())})
        table = table.replace_schema_metadata({RECORDS_SHA_KEY: sha.encode()})
        tmp = target.with_suffix(".tmp")
        pq.write_table(table, tmp, compression="zstd")
        tmp.replace(target)

    def files(self, batch: str) -> dict[str, BatchFile]:
        """The files of a batch by hash (read from its metadata once)."""
        found = self._files.get(batch)
        if found is None:
            found = {f.sha: f for f in batch_files(self.folder / f"{batch}.parquet")}
            self._files[batch] = found
        return found

    def add(self, batch: str, shas: list[str]) -> None:
        """Record a batch written to the folder (after it is in place, never before)."""
        self._handle.write(json.dumps({"batch": batch, "files": shas}) + "\n")
        self._handle.flush()
        self._note(batch, shas)

    def write(self, table: pa.Table, files: list[BatchFile]) -> str:
        """Put a batch of `files` in the lake, then in the index; returns its id.

        `table` holds the files' rows in their order (each file's `first` and `rows` say
        where). The batch is named by its files, so writing the same files again writes nothing.
        """
        batch = batch_id(f.sha for f in files)
        metadata = {**(table.schema.metadata or {}), **_encoded(files_metadata(files))}
        self.lake.write(self.dataset, table.replace_schema_metadata(metadata), batch)
        self.add(batch, [f.sha for f in files])
        return batch


def _encoded(metadata: dict[str, str]) -> dict[bytes, bytes]:
    return {k.encode(): v.encode() for k, v in metadata.items()}


def _clear_leftovers(folder: Path) -> None:
    """Remove what a killed writer left: batches and record files written halfway."""
    for stale in [*folder.glob("*.tmp-*"), *(folder / RECORDS_DIR).glob("*.tmp")]:
        stale.unlink(missing_ok=True)


def read_ids(where: tuple[str, int, int | None], key: str) -> frozenset[str]:
    """The record ids at `where` (see `BatchIndex.held_records`); none if it cannot be read."""
    path, first, rows = where
    try:
        ids = pq.read_table(path, columns=[key]).column(key)
    except (OSError, ValueError, KeyError):  # gone or damaged: the file is read whole
        return frozenset()
    if rows is not None:
        ids = ids.slice(first, rows)
    return frozenset(ids.to_pylist())
