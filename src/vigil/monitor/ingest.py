"""Ingest log files into the lake dataset monitor_events: parsed in parallel, one batch per file.

A file's batch id is the hash of its content, so the same file twice adds nothing, and the lake
writes each batch atomically, so a crash leaves no half batch: running the ingest again
resumes. Bad records go to quarantine with file, line or record, and the reason.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from vigil.core.access import Actor, Permission
from vigil.deployment import Deployment
from vigil.lake.datasets import Lake
from vigil.lake.quarantine import QuarantineEntry
from vigil.monitor.errors import MonitorError
from vigil.monitor.events import DATASET, EventTableBuilder, HostSeen
from vigil.monitor.hosts import HostPlacement, host_units, record_hosts
from vigil.monitor.sources import source_for, source_named
from vigil.store.audit import audit

INGESTED = "ingested"
ALREADY = "already in the lake"
UNKNOWN_FORMAT = "unknown format"
EMPTY = "no readable event"
#: Parquet metadata key under which a batch keeps its file's quarantine entries.
QUARANTINE_KEY = "vigil.quarantine"


@dataclass
class FileOutcome:
    """What happened to one file."""

    path: str
    status: str
    source: str = ""
    batch: str = ""
    events: int = 0
    quarantined: int = 0
    hosts: dict[str, HostSeen] = field(default_factory=dict)


@dataclass
class IngestResult:
    files: list[FileOutcome] = field(default_factory=list)
    #: The new batches' tables, kept so rules can run over them without reading them back.
    tables: dict[str, pa.Table] = field(default_factory=dict)
    placed: list[HostPlacement] = field(default_factory=list)

    @property
    def events(self) -> int:
        return sum(f.events for f in self.files if f.status == INGESTED)

    @property
    def quarantined(self) -> int:
        return sum(f.quarantined for f in self.files)

    @property
    def batches(self) -> list[str]:
        return [f.batch for f in self.files if f.status == INGESTED]


@dataclass(frozen=True)
class _Task:
    path: str
    batch: str
    source: str | None
    default_host: str
    units: dict[str, str]
    default_unit: str
    lake_root: str


@dataclass
class _Parsed:
    outcome: FileOutcome
    table: pa.Table | None
    entries: list[QuarantineEntry]


def file_batch_id(path: Path) -> str:
    """The content hash that names a file's batch."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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


def parse_file(task: _Task) -> _Parsed:
    """Read one file and write its batch to the lake (runs in a worker process).

    The batch carries its quarantine entries in its Parquet metadata, so the lake alone can
    restore them if the ingest stops between writing the batch and the quarantine.
    """
    path = Path(task.path)
    source = source_named(task.source) if task.source else source_for(path)
    if source is None:
        reason = "no log source recognises this file (evtx, jsonl, access, syslog)"
        entry = QuarantineEntry(dataset=DATASET, source=task.path, reason=reason)
        outcome = FileOutcome(task.path, UNKNOWN_FORMAT, batch=task.batch, quarantined=1)
        return _Parsed(outcome, None, [entry])
    units = task.units

    def unit_of(host: str) -> str:
        return units.get(host, task.default_unit)

    builder = EventTableBuilder(source.name, unit_of, default_host=task.default_host)
    entries: list[QuarantineEntry] = []
    for item in source.read(path):
        if isinstance(item, QuarantineEntry):
            entries.append(item)
        else:
            builder.add(item)
    status = INGESTED if len(builder) else EMPTY
    outcome = FileOutcome(
        task.path, status, source.name, task.batch, len(builder), len(entries), builder.hosts
    )
    if not len(builder):
        return _Parsed(outcome, None, entries)
    table = builder.table()
    if entries:
        table = table.replace_schema_metadata({QUARANTINE_KEY: _entries_json(entries)})
    Lake(Path(task.lake_root)).write(DATASET, table, task.batch)
    return _Parsed(outcome, table, entries)


def _entries_json(entries: list[QuarantineEntry]) -> str:
    return json.dumps(
        [{k: v for k, v in asdict(e).items() if k != "at"} for e in entries], ensure_ascii=False
    )


def entries_from_batch(path: Path) -> list[QuarantineEntry]:
    """The quarantine entries a batch file carries in its metadata."""
    metadata = pq.read_schema(path).metadata or {}
    raw = metadata.get(QUARANTINE_KEY.encode())
    if not raw:
        return []
    return [QuarantineEntry(**item) for item in json.loads(raw)]


def _parse_all(tasks: list[_Task], workers: int) -> Iterator[_Parsed]:
    if workers <= 1 or len(tasks) <= 1:
        yield from map(parse_file, tasks)
        return
    # fork: workers start in milliseconds and inherit the imported parsers.
    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield from pool.map(parse_file, tasks, chunksize=max(1, len(tasks) // (workers * 8)))


class _Kept:
    """Writes quarantine entries once per batch, knowing which batches the quarantine holds."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self._tags: set[str] | None = None

    def add(self, batch: str, entries: list[QuarantineEntry]) -> None:
        if not entries:
            return
        if self._tags is None:
            self._tags = {
                (e.record or "").split(" ")[0] for e in self.deployment.quarantine.entries(DATASET)
            }
        tag = batch[:16]
        if tag in self._tags:
            return
        for entry in entries:
            where = f"{tag} {entry.record}" if entry.record else tag
            self.deployment.quarantine.add(replace(entry, record=where))
        self._tags.add(tag)


def ingest_files(
    deployment: Deployment,
    actor: Actor,
    paths: Iterable[Path],
    *,
    unit: str | None = None,
    host: str | None = None,
    source: str | None = None,
    workers: int = 2,
) -> IngestResult:
    """Ingest files and folders; `unit` places new hosts, `host` names hosts a format omits."""
    actor.require(Permission.ANALYSE)
    if unit is not None:
        deployment.units.get(unit)
        actor.require_unit(unit)
    if source is not None:
        source_named(source)
    lake = deployment.lake
    result = IngestResult()
    with deployment.store.reader() as session:
        placed = host_units(session)
    units = {h: p.unit for h, p in placed.items() if p.source != "unknown" or unit is None}
    default_unit = unit or deployment.units.root.code
    kept = _Kept(deployment)
    tasks: list[_Task] = []
    planned: set[str] = set()
    for path in expand_paths(paths):
        batch = file_batch_id(path)
        if batch in planned:
            result.files.append(FileOutcome(str(path), ALREADY, batch=batch))
            continue
        if lake.has_batch(DATASET, batch):
            result.files.append(FileOutcome(str(path), ALREADY, batch=batch))
            # A stop between batch and quarantine left the entries only in the batch.
            kept.add(batch, entries_from_batch(lake.root / DATASET / f"{batch}.parquet"))
            continue
        planned.add(batch)
        default_host = host or path.stem
        tasks.append(
            _Task(str(path), batch, source, default_host, units, default_unit, str(lake.root))
        )
    for parsed in _parse_all(tasks, workers):
        kept.add(parsed.outcome.batch, parsed.entries)
        if parsed.table is not None:
            result.tables[parsed.outcome.batch] = parsed.table
        result.files.append(parsed.outcome)
    seen_hosts = {h for f in result.files for h in f.hosts}
    with deployment.store.session() as session:
        result.placed = record_hosts(session, actor, deployment.units, seen_hosts, unit)
        audit(
            session,
            actor,
            "monitor.ingest",
            f"dataset:{DATASET}",
            {
                "files": len(result.files),
                "batches": result.batches,
                "events": result.events,
                "quarantined": result.quarantined,
                "unit": unit,
            },
            unit,
        )
    return result
