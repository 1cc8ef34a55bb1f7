"""Ingest log files into the lake dataset monitor_events: one batch per ingest, many files in it.

A very large ingest writes a batch per `BATCH_BYTES` of source. Each file is known by the hash
of its content, and the batch index (vigil.lake.batches) says which files the lake
holds, so the same file twice adds nothing. Files are hashed by the parser that reads them (one
read, in the worker processes when there are any); a file seen before at the same size and
modification time is not read at all, and a line log that grew since is read from where the
lake's copy ends. The lake writes a batch atomically and the batch names its files in its own
metadata, so a stop at any point leaves no half batch and no file counted twice: running the
ingest again resumes. Bad records go to quarantine with file, line or record, and the reason.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, wait
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from time import perf_counter

import pyarrow as pa

from vigil.core.access import Actor, Permission
from vigil.deployment import Deployment
from vigil.lake.batches import (
    BatchFile,
    BatchIndex,
    batch_id,
    file_hash,
    files_metadata,
    read_ids,
)
from vigil.lake.quarantine import QuarantineEntry
from vigil.monitor.errors import MonitorError
from vigil.monitor.ingest.events import DATASET, FULL_TEXT_COLUMN, EventTableBuilder, HostSeen
from vigil.monitor.ingest.hosts import HostPlacement, host_units, record_hosts
from vigil.monitor.ingest.sources import source_for, source_named
from vigil.monitor.ingest.sources.base import LineSource
from vigil.monitor.ingest.workers import spool_folder, spool_tables, unspool, worker_pool
from vigil.store.audit import audit

INGESTED = "ingested"
ALREADY = "already in the lake"
UNKNOWN_FORMAT = "unknown format"
EMPTY = "no readable event"
#: A batch holds at most about this much source; its events stay in memory until it is written
#: (1 GB of EVTX: about 200,000 events, 1.3 GB of memory at its peak). Each batch is scanned by
#: the rules on its own, at a cost of about half a second whatever its size (binding the rules'
#: SQL): measured on 1.1 GB, five batches of 256 MB ran 14 % slower than two.
BATCH_BYTES = 1024 * 1024 * 1024
#: Less source than this is parsed in this process. Measured on 2 cores, end to end with the
#: rules (which load meanwhile): on the 27 MB of the EVTX benchmark two workers took 0.89-0.96 s
#: against 1.03-1.20 s here; on 4.5 MB both took 0.40-0.46 s.
PARALLEL_MIN_BYTES = 16 * 1024 * 1024
#: Pieces of work per worker, so that a worker with small files does not wait for one with big.
CHUNKS_PER_WORKER = 4
#: Bytes read at a time when a grown file is hashed.
HASH_BLOCK = 1024 * 1024
#: Records held as Python objects before they are laid out as Arrow (a few hundred MB at most).
TABLE_ROWS = 50_000
#: The column that identifies an event (for logs rewritten in place, see `LogSource.rewritten`).
KEY = "event_id"


@dataclass
class FileOutcome:
    """What happened to one file; `batch` is the lake batch that holds its events."""

    path: str
    status: str
    source: str = ""
    batch: str = ""
    events: int = 0
    quarantined: int = 0
    hosts: dict[str, HostSeen] = field(default_factory=dict)
    #: The content hash of the file.
    sha: str = ""
    #: Only the bytes after this offset were read: what was appended since an earlier ingest.
    offset: int = 0
    #: Records not kept: the lake held them from an earlier version of the file at this path.
    repeated: int = 0
    #: The ids of all the records of this version, when it was read against an earlier one
    #: (kept after its batch is written, for the next version; see `BatchIndex.keep_records`).
    records: list[str] | None = None


@dataclass
class IngestResult:
    files: list[FileOutcome] = field(default_factory=list)
    #: The write of the last batch, still running (`ingest_files(write_behind=True)`).
    pending: Future[None] | None = None
    #: The new batches' tables, kept so rules can run over them without reading them back;
    #: their `message` holds each event's full text.
    tables: dict[str, pa.Table] = field(default_factory=dict)
    placed: list[HostPlacement] = field(default_factory=list)
    #: Seconds per stage: list the files (skipping those seen unchanged), hash and parse,
    #: write the batches, place hosts.
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def events(self) -> int:
        return sum(f.events for f in self.files if f.status == INGESTED)

    @property
    def quarantined(self) -> int:
        return sum(f.quarantined for f in self.files)

    def finish(self) -> None:
        """Wait for the last batch to be in the lake (raises what its write raised)."""
        if self.pending is not None:
            self.pending.result()

    @property
    def batches(self) -> list[str]:
        """The new batches, in the order they were written."""
        return list(dict.fromkeys(f.batch for f in self.files if f.status == INGESTED))


@dataclass(frozen=True)
class _File:
    path: str
    size: int
    mtime_ns: int
    #: Known from an earlier ingest of the same unchanged file; else the parser hashes it.
    sha: str
    source: str | None
    default_host: str
    #: (size, hash) of this path at an earlier ingest that put it in the lake, when it has grown
    #: since: if those bytes are still its start, only what follows them is read.
    grown_from: tuple[int, str] | None = None
    #: Where the ids of the records an earlier version of this path held can be read, when its
    #: format is rewritten in place (`LogSource.rewritten`): (file, first row, rows).
    held: tuple[str, int, int | None] | None = None


@dataclass(frozen=True)
class _Chunk:
    files: tuple[_File, ...]
    units: dict[str, str]
    default_unit: str
    #: A worker process leaves its tables here as Arrow files (`spool_tables`); None: in memory.
    spool: str | None = None
    #: The deployment's fixed clock (UTC), None for the real time: formats that omit the year
    #: (BSD syslog) take it from here (`LogSource.clock`).
    clock: datetime | None = None


@dataclass(frozen=True)
class _Batch:
    """A batch laid out, to be written to the lake: its id, table and files."""

    id: str
    table: pa.Table
    files: list[BatchFile]


@dataclass
class _Parsed:
    """One chunk parsed: an outcome and quarantine entries per file, their events in tables."""

    outcomes: list[FileOutcome]
    entries: list[list[QuarantineEntry]]
    tables: list[pa.Table]
    #: Per table, each event's full text for keyword rules (EventTableBuilder.full_text).
    texts: list[pa.Array]
    #: The tables and texts left in the spool by a worker, to be read back (`_unspooled`).
    spooled: list[str] = field(default_factory=list)


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given, folders recursively (hidden entries skipped), in a stable order."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and not any(s.startswith(".") for s in p.relative_to(path).parts)
            )
        elif path.is_file():
            out.append(path)
        else:
            raise MonitorError(f"no such file or folder: {path}")
    return out


#: The hashes of the files the lake holds when an ingest starts. Set before the worker processes
#: are forked, so that they inherit it and skip a file the lake has without parsing it.
_IN_LAKE: frozenset[str] = frozenset()


def parse_chunk(chunk: _Chunk) -> _Parsed:
    """Hash and read files into event tables (runs in a worker process, or in this one)."""
    units = chunk.units

    def unit_of(host: str) -> str:
        return units.get(host, chunk.default_unit)

    builder = EventTableBuilder("", unit_of)
    parsed = _Parsed([], [], [], [])
    for file in chunk.files:
        if len(builder) >= TABLE_ROWS:
            parsed.tables.append(builder.table())
            parsed.texts.append(builder.full_text())
            builder = EventTableBuilder("", unit_of)
        path = Path(file.path)
        offset = 0
        if file.grown_from is not None:
            sha, before = hash_with_prefix(path, file.grown_from[0])
            if before == file.grown_from[1]:
                offset = file.grown_from[0]
        else:
            sha = file.sha or file_hash(path)
        if sha in _IN_LAKE:
            parsed.outcomes.append(FileOutcome(file.path, ALREADY, sha=sha))
            parsed.entries.append([])
            continue
        source = source_named(file.source) if file.source else source_for(path)
        if source is None:
            reason = "no log source recognises this file (evtx, jsonl, access, syslog)"
            entry = QuarantineEntry(dataset=DATASET, source=file.path, reason=reason)
            parsed.outcomes.append(FileOutcome(file.path, UNKNOWN_FORMAT, quarantined=1, sha=sha))
            parsed.entries.append([entry])
            continue
        source.clock = chunk.clock
        if offset and not (isinstance(source, LineSource) and _ends_a_line(path, offset)):
            offset = 0  # not a line format, or the old end cut a line: read it all again
        builder.next_file(source.name, file.default_host)
        start = len(builder)
        entries: list[QuarantineEntry] = []
        records = (
            source.read_appended(path, offset)
            if offset and isinstance(source, LineSource)
            else source.read(path)
        )
        held = read_ids(file.held, KEY) if file.held and source.rewritten and not offset else None
        seen: list[str] = []
        repeated = 0
        for item in records:
            if isinstance(item, QuarantineEntry):
                entries.append(item)
            elif held is None:
                builder.add(item)
            else:
                event_id = builder.event_id(item)
                seen.append(event_id)
                if event_id in held:
                    repeated += 1
                else:
                    builder.add(item, event_id)
        events = len(builder) - start
        status = INGESTED if events else ALREADY if repeated else EMPTY
        parsed.outcomes.append(
            FileOutcome(
                file.path,
                status,
                source.name,
                "",
                events,
                len(entries),
                builder.hosts,
                sha,
                offset,
                repeated,
                None if held is None else seen,
            )
        )
        parsed.entries.append(entries)
    if len(builder):
        parsed.tables.append(builder.table())
        parsed.texts.append(builder.full_text())
    if chunk.spool is not None:
        parsed.spooled = spool_tables(parsed.tables, parsed.texts, Path(chunk.spool))
        parsed.tables, parsed.texts = [], []
    return parsed


def hash_with_prefix(path: Path, prefix: int) -> tuple[str, str]:
    """The content hash of the file and of its first `prefix` bytes, in one read."""
    digest = hashlib.sha256()
    before = ""
    done = 0
    with path.open("rb") as fh:
        while True:
            block = fh.read(min(HASH_BLOCK, prefix - done) if done < prefix else HASH_BLOCK)
            if not block:
                break
            digest.update(block)
            done += len(block)
            if done == prefix:
                before = digest.copy().hexdigest()
    return digest.hexdigest(), before


def _ends_a_line(path: Path, offset: int) -> bool:
    with path.open("rb") as fh:
        fh.seek(offset - 1)
        return fh.read(1) == b"\n"


def _split(files: list[_File], pieces: int) -> list[list[_File]]:
    """Consecutive runs of files of about equal size (the batch keeps the files' order)."""
    target = sum(f.size for f in files) / max(pieces, 1)
    out: list[list[_File]] = [[]]
    size = 0
    for file in files:
        if out[-1] and size >= target:
            out.append([])
            size = 0
        out[-1].append(file)
        size += file.size
    return out


def _batches(files: list[_File]) -> list[list[_File]]:
    """Consecutive runs of files of about equal size, each at most about `BATCH_BYTES`."""
    total = sum(f.size for f in files)
    count = max(1, -(-total // BATCH_BYTES))
    target = total / count
    out: list[list[_File]] = [[]]
    size = 0
    for file in files:
        if out[-1] and size + file.size > target and len(out) < count:
            out.append([])
            size = 0
        out[-1].append(file)
        size += file.size
    return [b for b in out if b]


@contextmanager
def _parser(
    workers: int, size: int, inherited: tuple[int, ...]
) -> Iterator[ProcessPoolExecutor | None]:
    """Worker processes when there are several and enough to parse; None parses here."""
    if workers <= 1 or size < PARALLEL_MIN_BYTES:
        yield None
        return
    with worker_pool(workers, inherited) as pool:
        yield pool


def _parse(
    pool: ProcessPoolExecutor | None, chunk: _Chunk, workers: int, spool: Path | None = None
) -> Callable[[], list[_Parsed]]:
    """Start parsing a batch's files (in workers); the call returned waits for them.

    With workers, the next batch is parsed while this process writes the one before; without,
    the files are parsed when the call is made.
    """
    if pool is None or len(chunk.files) <= 1:
        return lambda: [parse_chunk(chunk)]
    where = None if spool is None else str(spool)
    pieces = [
        _Chunk(tuple(run), chunk.units, chunk.default_unit, where, chunk.clock)
        for run in _split(list(chunk.files), workers * CHUNKS_PER_WORKER)
    ]
    futures = [pool.submit(parse_chunk, piece) for piece in pieces]
    return lambda: [_unspooled(f.result()) for f in futures]


def _unspooled(parsed: _Parsed) -> _Parsed:
    """The tables a worker left in the spool, read back."""
    tables, texts = unspool(parsed.spooled)
    parsed.tables += tables
    parsed.texts += texts
    parsed.spooled = []
    return parsed


def combine_tables(tables: list[pa.Table]) -> pa.Table:
    """One table from tables whose columns differ, each name spelled as it first appeared.

    DuckDB folds identifiers, so "ProcessID" and "ProcessId" from two workers are one column.
    """
    if len(tables) == 1:
        return tables[0]
    canonical: dict[str, str] = {}
    renamed = [
        t.rename_columns([canonical.setdefault(n.lower(), n) for n in t.column_names])
        for t in tables
    ]
    return pa.concat_tables(renamed, promote_options="default")


class _Kept:
    """Writes quarantine entries once per file, knowing which files the quarantine holds."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self._tags: set[str] | None = None

    def add(self, sha: str, entries: list[QuarantineEntry]) -> None:
        if not entries:
            return
        if self._tags is None:
            self._tags = {
                (e.record or "").split(" ")[0] for e in self.deployment.quarantine.entries(DATASET)
            }
        tag = sha[:16]
        if tag in self._tags:
            return
        for entry in entries:
            where = f"{tag} {entry.record}" if entry.record else tag
            self.deployment.quarantine.add(replace(entry, record=where))
        self._tags.add(tag)


def _write_batch(
    deployment: Deployment,
    index: BatchIndex,
    planned: set[str],
    parsed: list[_Parsed],
    result: IngestResult,
) -> tuple[list[tuple[str, list[QuarantineEntry]]], _Batch | None]:
    """Lay out one batch; returns the quarantine entries to keep, by file hash, and the batch
    to write to the lake (None if no file brought events).

    A file whose content the lake or this ingest already holds (the parser hashed it, so this
    is known only now) is dropped here with its rows.
    """
    laid: _Batch | None = None
    outcomes = [o for p in parsed for o in p.outcomes]
    entries = [e for p in parsed for e in p.entries]
    held: list[BatchFile] = []
    spans: list[tuple[int, int]] = []  # (first row, rows) of each run of files kept
    dropped = False
    row = first = 0  # rows parsed, rows kept
    for number, (outcome, kept) in enumerate(zip(outcomes, entries, strict=True)):
        if outcome.status == ALREADY:  # the parser found it in the lake
            outcome.batch = index.batch_of(outcome.sha) or ""
            # A stop between batch and quarantine left the entries only in the batch.
            held_before = index.files(outcome.batch).get(outcome.sha) if outcome.batch else None
            if held_before is not None:
                entries[number] = held_before.quarantine
        if outcome.status != INGESTED:
            continue
        start, row = row, row + outcome.events
        if outcome.sha in planned or index.batch_of(outcome.sha) is not None:
            outcome.status, outcome.batch = ALREADY, index.batch_of(outcome.sha) or ""
            entries[number] = []
            dropped = True
            continue
        planned.add(outcome.sha)
        held.append(
            BatchFile(
                outcome.sha,
                outcome.path,
                outcome.source,
                first,
                outcome.events,
                kept,
                outcome.offset,
            )
        )
        first += outcome.events
        if spans and sum(spans[-1]) == start:
            spans[-1] = (spans[-1][0], spans[-1][1] + outcome.events)
        else:
            spans.append((start, outcome.events))
    if held:
        batch = batch_id(f.sha for f in held)
        table = combine_tables([t for p in parsed for t in p.tables])
        texts = pa.chunked_array([t for p in parsed for t in p.texts], pa.string())
        if dropped:  # slices: no copy of the rows kept
            table = pa.concat_tables([table.slice(start, rows) for start, rows in spans])
            texts = pa.chunked_array(
                [c for start, rows in spans for c in texts.slice(start, rows).chunks], pa.string()
            )
        table = table.replace_schema_metadata(files_metadata(held))
        laid = _Batch(batch, table, held)
        # The lake keeps messages as sources gave them; the rules read the full texts.
        column = table.column_names.index(FULL_TEXT_COLUMN)
        result.tables[batch] = table.set_column(column, FULL_TEXT_COLUMN, texts)
        for outcome in outcomes:
            if outcome.status == INGESTED:
                outcome.batch = batch
    result.files += outcomes
    return [(o.sha, e) for o, e in zip(outcomes, entries, strict=True)], laid


def ingest_files(
    deployment: Deployment,
    actor: Actor,
    paths: Iterable[Path],
    *,
    unit: str | None = None,
    host: str | None = None,
    source: str | None = None,
    workers: int = 2,
    collected: bool = False,
    write_behind: bool = False,
    on_batch: Callable[[str, pa.Table], None] | None = None,
    while_parsing: Callable[[], None] | None = None,
) -> IngestResult:
    """Ingest files and folders; `unit` places new hosts, `host` names hosts a format omits.

    `collected`: the logs were copied off their hosts, not sent live (see hosts.record_hosts).
    `write_behind`: return while the last batch is still being written to the lake (its events
    are in `result.tables`), so that rules can run over them meanwhile; `result.finish()`
    waits for the write and must be called before anything is recorded about that batch.
    `on_batch(batch, table)` is called once each batch but a written-behind last one is in the
    lake, while the worker processes parse the next: rules can run over it meanwhile.
    `while_parsing()` is called once the workers parse the first batch (this process would
    only wait for them); not at all without workers: done before the parse, it would gain no
    time and slow the parse down (Python's cycle collector walks what it loaded, measured).
    """
    actor.require(Permission.ANALYSE)
    if unit is not None:
        deployment.units.get(unit)
        actor.require_unit(unit)
    if source is not None:
        source_named(source)
    result = IngestResult()
    with deployment.store.reader() as session:
        placed = host_units(session)
    units = {h: p.unit for h, p in placed.items() if p.source != "unknown" or unit is None}
    default_unit = unit or deployment.units.root.code
    kept = _Kept(deployment)
    clock = _Clock(result.timings)
    files = expand_paths(paths)

    def place(hosts: set[str]) -> None:
        with deployment.store.session() as session:
            result.placed += record_hosts(
                session, actor, deployment.units, hosts, unit, collected=collected
            )

    global _IN_LAKE
    held_open = ExitStack()
    index = held_open.enter_context(BatchIndex.open(deployment.lake, DATASET, key=KEY))
    try:
        todo = _to_read(index, files, source, host, kept, result)
        clock.lap("hash")
        planned: set[str] = set()  # the files written to this ingest's batches
        _IN_LAKE = index.shas()
        try:
            size = sum(f.size for f in todo)
            with _parser(workers, size, index.inherited()) as pool:
                spool = (
                    None
                    if pool is None
                    else held_open.enter_context(spool_folder(deployment.lake.root))
                )
                chunks = [
                    _Chunk(tuple(files), units, default_unit, clock=deployment.clock)
                    for files in _batches(todo)
                ]
                started = [_parse(pool, chunk, workers, spool) for chunk in chunks[:1]]
                if while_parsing is not None and pool is not None:
                    while_parsing()
                    clock.lap("warm")
                for number, chunk in enumerate(chunks):
                    parsed = started[number]()
                    if number + 1 < len(chunks):  # workers parse the next batch meanwhile
                        started.append(_parse(pool, chunks[number + 1], workers, spool))
                    clock.lap("parse")
                    to_keep, laid = _write_batch(deployment, index, planned, parsed, result)
                    finish = _finisher(chunk, parsed, laid, to_keep, place, kept, index)
                    if write_behind and number + 1 == len(chunks):
                        result.pending = _start(finish, held_open)
                        clock.lap("write")
                        continue
                    finish()
                    clock.lap("write")
                    if on_batch is not None and laid is not None:
                        on_batch(laid.id, result.tables[laid.id])
                        clock.lap("rules")
        finally:
            _IN_LAKE = frozenset()
    except BaseException:
        if result.pending is not None:  # the lake write still holds the index
            wait([result.pending])
        held_open.close()
        raise
    if result.pending is None:
        held_open.close()
    _audit(deployment, actor, result, unit, collected)
    clock.lap("hosts")
    return result


def _audit(
    deployment: Deployment, actor: Actor, result: IngestResult, unit: str | None, collected: bool
) -> None:
    detail = {
        "files": len(result.files),
        "batches": result.batches,
        "events": result.events,
        "quarantined": result.quarantined,
        "unit": unit,
        "collected": collected,
    }
    with deployment.store.session() as session:
        audit(session, actor, "monitor.ingest", f"dataset:{DATASET}", detail, unit)


def _to_read(
    index: BatchIndex,
    files: list[Path],
    source: str | None,
    host: str | None,
    kept: _Kept,
    result: IngestResult,
) -> list[_File]:
    """The files to read; those seen before unchanged and held by the lake are noted as such.

    A file at a path seen before, grown since, carries what the lake holds of it, so that
    the parser can read only what was appended.
    """
    todo: list[_File] = []
    known: set[str] = set()
    for path in files:
        stat = path.stat()
        name = str(path)
        sha = index.known_hash(name, stat.st_size, stat.st_mtime_ns) or ""
        batch = index.batch_of(sha) if sha else None
        # A version read again whose records the lake held already has no batch of its own.
        held_all = bool(sha) and batch is None and index.records_sha(name) == sha
        if sha and (sha in known or batch is not None or held_all):
            result.files.append(FileOutcome(name, ALREADY, batch=batch or "", sha=sha))
            if batch is not None:
                # A stop between batch and quarantine left the entries only in the batch.
                held = index.files(batch).get(sha)
                kept.add(sha, held.quarantine if held else [])
            continue
        if sha:
            known.add(sha)
        before = None if sha else index.previous(name)
        grown = (
            before
            if before is not None
            and 0 < before[0] < stat.st_size
            and index.batch_of(before[1]) is not None
            else None
        )
        todo.append(
            _File(
                name,
                stat.st_size,
                stat.st_mtime_ns,
                sha,
                source,
                host or path.stem,
                grown,
                None if before is None else index.held_records(name, before[1]),
            )
        )
    return todo


def _finisher(
    chunk: _Chunk,
    parsed: list[_Parsed],
    laid: _Batch | None,
    to_keep: list[tuple[str, list[QuarantineEntry]]],
    place: Callable[[set[str]], None],
    kept: _Kept,
    index: BatchIndex,
) -> Callable[[], None]:
    """What follows a batch's lay-out: place its hosts, write and index it, keep its quarantine
    entries, note its files' sizes and times (in that order: a stop leaves nothing claimed that
    is not in, and no host of the lake unplaced; placing a host again changes nothing)."""
    outcomes = [o for p in parsed for o in p.outcomes]
    files_seen = [
        (f.path, f.size, f.mtime_ns, o.sha) for f, o in zip(chunk.files, outcomes, strict=True)
    ]
    records = [(o.path, o.sha, o.records) for o in outcomes if o.records is not None]
    hosts = {h for o in outcomes if o.status == INGESTED for h in o.hosts}

    def finish() -> None:
        if laid is not None:
            if hosts:
                place(hosts)
            index.write(laid.table, laid.files)
        for sha, entries in to_keep:
            kept.add(sha, entries)
        for path, sha, ids in records:
            index.keep_records(path, sha, ids)
        for path, size, mtime_ns, sha in files_seen:
            index.remember(path, size, mtime_ns, sha)

    return finish


def _start(finish: Callable[[], None], held_open: ExitStack) -> Future[None]:
    """Run `finish` on its own thread, then release the batch index."""
    future: Future[None] = Future()

    def run() -> None:
        try:
            finish()
            future.set_result(None)
        except BaseException as e:  # handed to whoever waits
            future.set_exception(e)
        finally:
            held_open.close()

    threading.Thread(target=run, name="vigil-lake-write", daemon=False).start()
    return future


class _Clock:
    """Adds the seconds since the last lap to a stage."""

    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings
        self._last = perf_counter()

    def lap(self, stage: str) -> None:
        now = perf_counter()
        self.timings[stage] = self.timings.get(stage, 0.0) + now - self._last
        self._last = now
