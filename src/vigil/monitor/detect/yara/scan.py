"""Scanning files and folders with compiled YARA rules, in-process or over a process pool.

yara-x holds the GIL while it scans (two threads scan no faster than one, measured), so the
parallel path uses processes; each inherits the compiled rules when the platform forks and
otherwise deserialises them once. A file that cannot be read is reported, never fatal.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import pwd
import stat
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yara_x

from vigil.core.indicators import Indicator, IndicatorMatcher
from vigil.monitor.detect.yara.rules import CompiledRules

DEFAULT_MAX_SIZE = 64 * 1024 * 1024
DEFAULT_TIMEOUT = 60
#: Pattern matches kept per rule hit: enough to show where, not the whole file.
MAX_MATCHES = 5

# Magic numbers first, then the extension: the names THOR gives `filetype`, which rules compare.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"MZ", "EXE"),
    (b"\x7fELF", "ELF"),
    (b"PK\x03\x04", "ZIP"),
    (b"%PDF", "PDF"),
    (b"{\\rtf", "RTF"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "OLE"),
    (b"Rar!\x1a\x07", "RAR"),
    (b"7z\xbc\xaf\x27\x1c", "7Z"),
    (b"\x1f\x8b", "GZIP"),
    (b"GIF8", "GIF"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG", "PNG"),
    (b"\xca\xfe\xba\xbe", "CLASS"),
)
_BY_EXTENSION = {
    ".ps1": "PowerShell",
    ".psm1": "PowerShell",
    ".vbs": "VBS",
    ".vbe": "VBS",
    ".js": "JS",
    ".py": "Python",
    ".php": "PHP",
    ".sh": "SH",
    ".bat": "BAT",
    ".cmd": "BAT",
    ".hta": "HTA",
    ".jsp": "JSP",
    ".asp": "ASP",
    ".aspx": "ASPX",
}


def file_type(head: bytes, extension: str) -> str:
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return _BY_EXTENSION.get(extension, "")


@cache
def _owner(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def externals_for(path: str, head: bytes, uid: int) -> dict[str, str]:
    """The external variables for one file; filepath is its folder, as THOR defines it."""
    folder, _, name = path.rpartition(os.sep)
    extension = os.path.splitext(name)[1].lower()
    return {
        "filename": name,
        "filepath": folder,
        "extension": extension,
        "filetype": file_type(head, extension),
        "owner": _owner(uid),
    }


@dataclass(frozen=True)
class PatternHit:
    identifier: str
    offset: int
    length: int


@dataclass(frozen=True)
class RuleHit:
    namespace: str
    rule: str
    tags: tuple[str, ...]
    meta: dict[str, Any]
    patterns: tuple[PatternHit, ...]


@dataclass(frozen=True)
class FileScan:
    """What one file gave: rule hits, indicator hits, or why it was not scanned."""

    path: str
    size: int
    sha256: str = ""
    #: Other hashes computed for indicator matching (md5, sha1).
    hashes: dict[str, str] = field(default_factory=dict)
    hits: tuple[RuleHit, ...] = ()
    indicators: tuple[tuple[str, Indicator], ...] = ()  # (what matched: sha256/md5/path, indicator)
    skipped: str = ""
    error: str = ""


@dataclass
class ScanReport:
    files: int = 0
    bytes: int = 0
    #: Files with a rule or indicator hit.
    results: list[FileScan] = field(default_factory=list)
    skipped: list[FileScan] = field(default_factory=list)
    errors: list[FileScan] = field(default_factory=list)
    #: Entries that are not regular files (links, devices...) and were passed over, by kind.
    passed_over: Counter[str] = field(default_factory=Counter)

    def merge(self, other: ScanReport) -> None:
        self.files += other.files
        self.bytes += other.bytes
        self.results.extend(other.results)
        self.skipped.extend(other.skipped)
        self.errors.extend(other.errors)
        self.passed_over.update(other.passed_over)


@dataclass(frozen=True)
class ScanOptions:
    max_size: int = DEFAULT_MAX_SIZE
    timeout: int = DEFAULT_TIMEOUT
    matcher: IndicatorMatcher | None = None


def _rule_hit(rule: Any) -> RuleHit:
    patterns = []
    for pattern in rule.patterns:
        for match in pattern.matches[:MAX_MATCHES]:
            patterns.append(PatternHit(pattern.identifier, match.offset, match.length))
    return RuleHit(
        namespace=rule.namespace,
        rule=rule.identifier,
        tags=tuple(rule.tags),
        meta={
            key: value
            for key, value in rule.metadata
            if isinstance(value, str | int | float | bool)
        },
        patterns=tuple(patterns),
    )


class FileScanner:
    """One yara-x scanner (not shareable between threads) with per-file externals and hashing."""

    def __init__(self, rules: yara_x.Rules, options: ScanOptions) -> None:
        self.options = options
        self._scanner = yara_x.Scanner(rules)
        self._scanner.set_timeout(options.timeout)
        matcher = options.matcher
        self._hash_kinds = sorted(k.value for k in matcher.hash_kinds()) if matcher else []

    def scan(self, path: str, st: os.stat_result) -> FileScan | None:
        """None when the file has nothing to say (no hit, no problem)."""
        if st.st_size > self.options.max_size:
            return FileScan(path, st.st_size, skipped=f"larger than {self.options.max_size} bytes")
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError as e:
            return FileScan(path, st.st_size, error=f"cannot read: {e.strerror or e}")
        scanner = self._scanner
        for name, value in externals_for(path, data[:16], st.st_uid).items():
            scanner.set_global(name, value)
        try:
            results = scanner.scan(data)
        except yara_x.TimeoutError:
            return FileScan(path, len(data), error=f"scan timed out after {self.options.timeout} s")
        except yara_x.ScanError as e:
            return FileScan(path, len(data), error=f"scan failed: {e}")
        hits = tuple(_rule_hit(rule) for rule in results.matching_rules)
        indicators = self._indicators(path, data)
        if not hits and not indicators[1]:
            return None
        hashes, found = indicators
        sha256 = hashes.pop("sha256", "") or hashlib.sha256(data).hexdigest()
        return FileScan(path, len(data), sha256, hashes, hits, found)

    def _indicators(
        self, path: str, data: bytes
    ) -> tuple[dict[str, str], tuple[tuple[str, Indicator], ...]]:
        matcher = self.options.matcher
        if matcher is None:
            return {}, ()
        hashes = {kind: hashlib.new(kind, data).hexdigest() for kind in self._hash_kinds}
        found = [
            (kind, ind) for kind, digest in hashes.items() for ind in matcher.lookup_hash(digest)
        ]
        if matcher.has_filenames:
            found.extend(("path", ind) for ind in matcher.lookup_filename(path))
        return hashes, tuple(found)


def walk(paths: Iterable[Path], report: ScanReport) -> Iterator[tuple[str, os.stat_result]]:
    """Regular files under `paths` (absolute); links below them are not followed, and anything
    that is not a file or folder is counted in the report."""
    stack = [(os.path.abspath(p), True) for p in reversed(list(paths))]
    while stack:
        path, top = stack.pop()
        try:
            # A path named on the command line is followed; links found inside are not.
            st = os.stat(path) if top else os.lstat(path)
        except OSError as e:
            report.errors.append(FileScan(path, 0, error=f"cannot stat: {e.strerror or e}"))
            continue
        if stat.S_ISDIR(st.st_mode):
            try:
                names = sorted(os.listdir(path), reverse=True)
            except OSError as e:
                report.errors.append(FileScan(path, 0, error=f"cannot list: {e.strerror or e}"))
                continue
            stack.extend((os.path.join(path, name), False) for name in names)
        elif stat.S_ISREG(st.st_mode):
            yield path, st
        else:
            report.passed_over["symlink" if stat.S_ISLNK(st.st_mode) else "special file"] += 1


def _scan_batch(scanner: FileScanner, batch: list[tuple[str, os.stat_result]]) -> ScanReport:
    report = ScanReport()
    for path, st in batch:
        result = scanner.scan(path, st)
        if result is not None and result.skipped:
            report.skipped.append(result)
            continue
        report.files += 1
        report.bytes += result.size if result is not None else st.st_size
        if result is None:
            continue
        (report.errors if result.error else report.results).append(result)
    return report


# --- the process pool ---------------------------------------------------------------------------

_worker: dict[str, Any] = {}


def _init_worker(blob: bytes | None, options: ScanOptions) -> None:
    rules = _worker.get("rules") if blob is None else None
    if rules is None:
        import io

        rules = yara_x.Rules.deserialize_from(io.BytesIO(blob or b""))
    _worker["scanner"] = FileScanner(rules, options)


def _worker_batch(batch: list[tuple[str, os.stat_result]]) -> ScanReport:
    return _scan_batch(_worker["scanner"], batch)


def _batches(
    files: Iterator[tuple[str, os.stat_result]], max_files: int, max_bytes: int
) -> Iterator[list[tuple[str, os.stat_result]]]:
    batch: list[tuple[str, os.stat_result]] = []
    size = 0
    for item in files:
        batch.append(item)
        size += item[1].st_size
        if len(batch) >= max_files or size >= max_bytes:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def scan_paths(
    compiled: CompiledRules,
    paths: Iterable[Path],
    *,
    workers: int = 1,
    options: ScanOptions | None = None,
    progress: Callable[[ScanReport], None] | None = None,
) -> ScanReport:
    """Scan every regular file under `paths`; `workers` > 1 scans in that many processes."""
    options = options or ScanOptions()
    report = ScanReport()
    files = walk(paths, report)
    if workers <= 1:
        scanner = FileScanner(compiled.rules, options)
        for batch in _batches(files, 256, 64 << 20):
            report.merge(_scan_batch(scanner, batch))
            if progress:
                progress(report)
        return report

    context: multiprocessing.context.BaseContext
    if "fork" in multiprocessing.get_all_start_methods():
        # A forked worker inherits the rules already in memory: no second deserialisation.
        context = multiprocessing.get_context("fork")
        _worker["rules"] = compiled.rules
        blob = None
    else:
        context = multiprocessing.get_context("spawn")
        blob = compiled.serialized()
    try:
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=_init_worker, initargs=(blob, options)
        ) as pool:
            pending: set[Future[ScanReport]] = set()
            for batch in _batches(files, 64, 16 << 20):
                pending.add(pool.submit(_worker_batch, batch))
                if len(pending) >= 4 * workers:  # bounded: the walk must not outrun the scan
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        report.merge(future.result())
                    if progress:
                        progress(report)
            for future in pending:
                report.merge(future.result())
    finally:
        _worker.pop("rules", None)
    return report
