"""`vigil registry import`: an extract into its lake dataset, once, bad rows quarantined.

Each row is converted to the dataset's columns: names NFC with single spaces and capitals
(`text.normalise_name`), citizen IDs to their digits, dates as records write them. A row that
cannot be converted (a date that is not one, no id) goes to the quarantine with its file, line
and reason; the rest are kept. The same file twice adds nothing (`lake.batches`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa

from vigil.core.problems import InputProblem
from vigil.deployment import Deployment
from vigil.lake.batches import BatchFile, BatchIndex, file_hash
from vigil.lake.quarantine import QuarantineEntry
from vigil.registry.datasets import DATASETS, KEYS, SCHEMAS
from vigil.registry.errors import RegistryError
from vigil.registry.ingest.mapping import Mapping
from vigil.registry.ingest.read import read_rows
from vigil.registry.text import nfc, normalise_citizen_id, normalise_name, parse_birth_date

KINDS = tuple(SCHEMAS)
_NAMES = {"full_name"}
_IDS = {"citizen_id"}

#: Called as progress(rows read so far).
Progress = Callable[[int], None]


@dataclass
class ImportReport:
    path: str
    kind: str
    dataset: str
    #: The text encoding detected (utf-8, utf-16, tcvn3, vni) or the format (xlsx, parquet).
    encoding: str = ""
    rows: int = 0
    quarantined: int = 0
    already: bool = False
    problems: list[InputProblem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "dataset": self.dataset,
            "encoding": self.encoding,
            "rows": self.rows,
            "quarantined": self.quarantined,
            "already_imported": self.already,
            "problems": [p.as_dict() for p in self.problems],
        }


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = nfc(str(value)).strip()
    return text or None


def convert(value: Any, column: str, kind: pa.DataType) -> Any:
    """One value to its lake column; ValueError saying why it cannot be."""
    if pa.types.is_date32(kind):
        if isinstance(value, date):
            return value if not hasattr(value, "date") else value.date()
        return parse_birth_date(_text(value))
    if pa.types.is_integer(kind):
        text = _text(value)
        return None if text is None else int(float(text))
    if column in _NAMES:
        return normalise_name(_text(value))
    if column in _IDS:
        return normalise_citizen_id(_text(value))
    return _text(value)


def convert_row(
    raw: dict[str, Any], schema: pa.Schema, mapping: Mapping, key: str
) -> dict[str, Any]:
    named = {mapping.rename(str(k)): v for k, v in raw.items()}
    named.update({k: v for k, v in mapping.constants.items() if named.get(k) in (None, "")})
    row = {}
    for f in schema:
        try:
            row[f.name] = convert(mapping.value(f.name, named.get(f.name)), f.name, f.type)
        except ValueError as e:
            raise ValueError(f"{f.name}: {e}") from e
    if not row.get(key):
        raise ValueError(f"no {key}")
    return row


def _read(
    path: Path, kind: str, mapping: Mapping, report: ImportReport, progress: Progress | None
) -> tuple[pa.Table, list[QuarantineEntry]]:
    schema, key, dataset = SCHEMAS[kind], KEYS[kind], DATASETS[kind]
    encoding, rows = read_rows(path)
    report.encoding = encoding
    good: list[dict[str, Any]] = []
    bad: list[QuarantineEntry] = []
    for count, (line, raw) in enumerate(rows, start=1):
        try:
            good.append(convert_row(raw, schema, mapping, key))
        except ValueError as e:
            raw_text = json.dumps(raw, ensure_ascii=False, default=str)
            problem = InputProblem.error(str(path), str(e), line=line, code="bad-row", raw=raw_text)
            report.problems.append(problem)
            bad.append(QuarantineEntry.of(dataset, problem))
        if progress and count % 5000 == 0:
            progress(count)
    return pa.Table.from_pylist(good, schema=schema), bad


def import_extract(
    deployment: Deployment,
    path: Path,
    kind: str,
    mapping: Mapping | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import one extract of `kind` (persons, households, deaths, moves) into its dataset."""
    if kind not in SCHEMAS:
        raise RegistryError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")
    dataset = DATASETS[kind]
    report = ImportReport(str(path), kind, dataset)
    if not path.is_file():
        raise RegistryError(f"no such file: {path}")
    with BatchIndex.open(deployment.lake, dataset) as index:
        stat = path.stat()
        sha = index.known_hash(str(path), stat.st_size, stat.st_mtime_ns) or file_hash(path)
        index.remember(str(path), stat.st_size, stat.st_mtime_ns, sha)
        if index.holds(sha):
            report.already = True
            return report
        table, bad = _read(path, kind, mapping or Mapping(), report, progress)
        for entry in bad:
            deployment.quarantine.add(entry)
        index.write(table, [BatchFile(sha, str(path), kind, 0, table.num_rows, bad)])
    report.rows, report.quarantined = table.num_rows, len(bad)
    return report
