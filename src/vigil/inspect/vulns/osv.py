"""OSV advisories imported offline into the lake, and CISA's Known Exploited Vulnerabilities.

`import_path` takes a folder or a zip of OSV JSON or YAML files (the advisory databases as they
are published, or OSV-Scanner's offline layout of one `all.zip` per ecosystem), or CISA's KEV
JSON catalog. Each advisory file is one source file of the `osv_affected` dataset (one row per
affected package), so the same advisory twice adds nothing (`lake.batches`); a malformed one is
quarantined with its file and reason and the rest still import. A batch's snapshot date is the
latest `modified` time among its advisories: what a finding quotes as the database's date.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml

from vigil.core.problems import InputProblem
from vigil.inspect.errors import VulnDataError
from vigil.inspect.vulns.versions import ecosystem_of, package_key
from vigil.lake.batches import BatchFile, BatchIndex
from vigil.lake.datasets import Lake
from vigil.lake.quarantine import Quarantine, QuarantineEntry

DATASET = "osv_affected"
KEV_DATASET = "kev"
_SUFFIXES = (".json", ".yaml", ".yml")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

SCHEMA = pa.schema(
    [
        ("advisory", pa.string()),
        ("modified", pa.string()),
        ("ecosystem", pa.string()),
        ("package", pa.string()),
        ("key", pa.string()),
        ("aliases", pa.list_(pa.string())),
        ("ranges", pa.string()),
        ("versions", pa.list_(pa.string())),
        ("fixed", pa.list_(pa.string())),
        ("summary", pa.string()),
        ("snapshot", pa.string()),
    ]
)
KEV_SCHEMA = pa.schema(
    [
        ("cve", pa.string()),
        ("date_added", pa.string()),
        ("vendor", pa.string()),
        ("product", pa.string()),
        ("name", pa.string()),
        ("catalog_version", pa.string()),
    ]
)


@dataclass
class ImportResult:
    files: int = 0
    advisories: int = 0
    rows: int = 0
    skipped: int = 0  # already imported
    #: Entries of a KEV catalog added (-1: the path was OSV data, not a KEV catalog).
    kev: int = -1
    problems: list[InputProblem] = field(default_factory=list)
    snapshot: str = ""


@dataclass(frozen=True)
class _Source:
    name: str
    data: bytes
    size: int
    mtime_ns: int


def _sources(path: Path) -> Iterator[_Source]:
    """Every advisory file under a folder or inside zips, in a stable order."""
    if path.is_file() and path.suffix.lower() == ".zip":
        yield from _zip_sources(path)
        return
    if path.is_file():
        stat = path.stat()
        yield _Source(str(path), path.read_bytes(), stat.st_size, stat.st_mtime_ns)
        return
    if not path.is_dir():
        raise VulnDataError(f"{path}: no such file or folder")
    for file in sorted(path.rglob("*")):
        if not file.is_file():
            continue
        suffix = file.suffix.lower()
        if suffix == ".zip":
            yield from _zip_sources(file)
        elif suffix in _SUFFIXES:
            stat = file.stat()
            yield _Source(str(file), file.read_bytes(), stat.st_size, stat.st_mtime_ns)


def _zip_sources(path: Path) -> Iterator[_Source]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        raise VulnDataError(f"{path}: not a zip file") from e
    with archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            if info.is_dir() or not info.filename.lower().endswith(_SUFFIXES):
                continue
            stamp = hash(info.date_time) & 0xFFFFFFFF
            yield _Source(f"{path}!{info.filename}", archive.read(info), info.file_size, stamp)


def _parse(source: _Source) -> Any:
    text = source.data.decode("utf-8")
    if source.name.lower().endswith(".json"):
        return json.loads(text)
    return yaml.load(text, Loader=_Loader)  # noqa: S506 (the C SafeLoader)


def _fixed(ranges: list[dict[str, Any]]) -> list[str]:
    return [str(e["fixed"]) for r in ranges for e in r.get("events") or [] if "fixed" in e]


def advisory_rows(doc: Any) -> list[dict[str, Any]]:
    """The rows of one advisory (one per affected package); ValueError says what is wrong."""
    if not isinstance(doc, dict):
        raise ValueError("an OSV advisory is a JSON/YAML object")
    advisory = doc.get("id")
    if not isinstance(advisory, str) or not advisory:
        raise ValueError("no 'id'")
    affected = doc.get("affected")
    if not isinstance(affected, list):
        raise ValueError(f"{advisory}: 'affected' must be a list")
    aliases = [str(a) for a in doc.get("aliases") or []]
    rows = []
    for entry in affected:
        package = entry.get("package") if isinstance(entry, dict) else None
        if not isinstance(package, dict) or not package.get("name") or not package.get("ecosystem"):
            raise ValueError(f"{advisory}: an affected entry without package name and ecosystem")
        ranges = entry.get("ranges") or []
        if not isinstance(ranges, list) or not all(isinstance(r, dict) for r in ranges):
            raise ValueError(f"{advisory}: 'ranges' must be a list of objects")
        ecosystem = ecosystem_of(str(package["ecosystem"]))
        rows.append(
            {
                "advisory": advisory,
                "modified": str(doc.get("modified") or ""),
                "ecosystem": ecosystem,
                "package": str(package["name"]),
                "key": package_key(ecosystem, str(package["name"])),
                "aliases": aliases,
                "ranges": json.dumps(ranges, default=str),
                "versions": [str(v) for v in entry.get("versions") or []],
                "fixed": _fixed(ranges),
                "summary": str(doc.get("summary") or doc.get("details") or "")[:300],
            }
        )
    return rows


def _is_kev(path: Path) -> bool:
    if not (path.is_file() and path.suffix.lower() == ".json"):
        return False
    with path.open("rb") as fh:
        head = fh.read(4096)
    return b"catalogVersion" in head and b"vulnerabilities" in head


def import_kev(lake: Lake, path: Path) -> int:
    """CISA's KEV catalog; the same file twice adds nothing. Returns the entries added."""
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    with BatchIndex.open(lake, KEV_DATASET) as index:
        if index.holds(sha):
            return 0
        try:
            doc = json.loads(data)
            rows = [
                {
                    "cve": v["cveID"],
                    "date_added": v.get("dateAdded", ""),
                    "vendor": v.get("vendorProject", ""),
                    "product": v.get("product", ""),
                    "name": v.get("vulnerabilityName", ""),
                    "catalog_version": str(doc.get("catalogVersion", "")),
                }
                for v in doc["vulnerabilities"]
            ]
        except (ValueError, KeyError, TypeError) as e:
            raise VulnDataError(f"{path}: not a KEV catalog: {e}") from e
        table = pa.Table.from_pylist(rows, schema=KEV_SCHEMA)
        index.write(table, [BatchFile(sha, str(path), "kev", 0, table.num_rows)])
        return int(table.num_rows)


Progress = Callable[[int], None]


def import_path(
    lake: Lake, quarantine: Quarantine, path: Path, progress: Progress | None = None
) -> ImportResult:
    """Import a folder or zip of OSV advisories (or a KEV catalog) into the lake."""
    result = ImportResult()
    if _is_kev(path):
        result.kev = import_kev(lake, path)
        return result
    rows: list[dict[str, Any]] = []
    files: list[BatchFile] = []
    taken: set[str] = set()
    with BatchIndex.open(lake, DATASET) as index:
        for source in _sources(path):
            result.files += 1
            if progress is not None:
                progress(1)
            sha = (
                index.known_hash(source.name, source.size, source.mtime_ns)
                or hashlib.sha256(source.data).hexdigest()
            )
            index.remember(source.name, source.size, source.mtime_ns, sha)
            if index.holds(sha) or sha in taken:
                result.skipped += 1
                continue
            taken.add(sha)
            try:
                found = advisory_rows(_parse(source))
            except (ValueError, UnicodeDecodeError, yaml.YAMLError, AttributeError) as e:
                problem = InputProblem.error(
                    source.name,
                    str(e)[:500],
                    code="advisory",
                    raw=source.data[:2000].decode("utf-8", "replace"),
                )
                result.problems.append(problem)
                entry = QuarantineEntry.of(DATASET, problem)
                quarantine.add(entry)
                files.append(BatchFile(sha, source.name, "osv", len(rows), 0, [entry]))
                continue
            files.append(BatchFile(sha, source.name, "osv", len(rows), len(found)))
            rows.extend(found)
            result.advisories += 1
        if files:
            # Each ecosystem's database has its own date: the latest change among its advisories.
            snapshots: dict[str, str] = {}
            for row in rows:
                day = row["modified"][:10]
                snapshots[row["ecosystem"]] = max(snapshots.get(row["ecosystem"], ""), day)
            for row in rows:
                row["snapshot"] = snapshots[row["ecosystem"]]
            result.snapshot = max(snapshots.values(), default="")
            index.write(pa.Table.from_pylist(rows, schema=SCHEMA), files)
    result.rows = len(rows)
    return result
