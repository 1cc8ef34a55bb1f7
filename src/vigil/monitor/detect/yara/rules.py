"""Compiling YARA rule folders: bad files reported and left out, the good set cached on disk.

Each file is compiled alone first, so that one broken file is named (with its line and the
compiler's reason) and skipped instead of failing the whole set; the good files are then compiled
together, one namespace per file. The result is serialised under a name that is the digest of
every source byte, so an unchanged rule folder is loaded, not compiled, next time.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import yara_x

from vigil.core.errors import Location
from vigil.core.problems import InputProblem, ProblemSeverity
from vigil.monitor.errors import MonitorError

RULE_SUFFIXES = (".yar", ".yara")
#: External variables THOR and LOKI define and signature-base's rules use; set per scanned file.
EXTERNALS = ("filename", "filepath", "extension", "filetype", "owner")
#: Bump when what goes into a cache file changes, so old cache files are not read.
CACHE_FORMAT = 1


class YaraError(MonitorError):
    """Rules could not be found, compiled or loaded."""

    code = "yara"


def file_error(
    path: str, line: int | None, column: int | None, code: str, reason: str, raw: str = ""
) -> InputProblem:
    """Why one rule file was left out of the compiled set (`code`: the compiler's, e.g. E025)."""
    return InputProblem(
        Location(path, line, column=column), ProblemSeverity.ERROR, reason, code, raw
    )


def error_json(problem: InputProblem) -> dict[str, Any]:
    """A left-out file in `yara check --json` and the cache: the common shape, plus the names
    this report has always used (path, column, reason)."""
    where = problem.location
    return {
        **problem.as_dict(),
        "path": where.source,
        "column": where.column,
        "reason": problem.message,
        "raw": problem.raw,
    }


def _error_from_json(item: dict[str, Any]) -> InputProblem:
    return file_error(
        item["path"],
        item["line"],
        item["column"],
        item["code"],
        item["reason"],
        item.get("raw", ""),
    )


@dataclass
class CompileReport:
    files: int = 0
    rules: int = 0
    warnings: int = 0
    errors: list[InputProblem] = field(default_factory=list)

    @property
    def skipped_files(self) -> list[str]:
        return sorted({e.location.source for e in self.errors})

    def to_json(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "rules": self.rules,
            "warnings": self.warnings,
            "errors": [error_json(e) for e in self.errors],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CompileReport:
        return cls(
            files=int(data["files"]),
            rules=int(data["rules"]),
            warnings=int(data["warnings"]),
            errors=[_error_from_json(e) for e in data["errors"]],
        )


@dataclass
class CompiledRules:
    rules: yara_x.Rules
    report: CompileReport
    #: Digest of the sources (and compiler version): the cache file's name.
    digest: str
    from_cache: bool
    cache_path: Path | None = None

    def serialized(self) -> bytes:
        buffer = io.BytesIO()
        self.rules.serialize_into(buffer)
        return buffer.getvalue()


def rule_files(paths: Iterable[Path]) -> list[tuple[Path, str]]:
    """Every .yar/.yara file under `paths`, with its namespace: the path below its root."""
    found: dict[str, Path] = {}
    for root in paths:
        if root.is_file():
            found.setdefault(root.stem, root)
            continue
        if not root.is_dir():
            raise YaraError("no such rule file or folder", location=Location(str(root)))
        for path in sorted(root.rglob("*")):
            if path.suffix.lower() in RULE_SUFFIXES and path.is_file():
                relative = path.relative_to(root).with_suffix("").as_posix()
                # foo.yar and foo.yara in one folder are two namespaces, not one
                namespace = relative if relative not in found else relative + path.suffix
                found[namespace] = path
    return [(path, namespace) for namespace, path in sorted(found.items())]


def sources_digest(files: list[tuple[Path, str]], *, relaxed: bool) -> str:
    """Changes when any rule byte, file name, the compiler version or its options change."""
    digest = hashlib.sha256()
    header = [CACHE_FORMAT, version("yara-x"), list(EXTERNALS), relaxed]
    digest.update(json.dumps(header).encode())
    for path, namespace in files:
        data = path.read_bytes()
        digest.update(f"\0{namespace}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def _compiler(relaxed: bool) -> yara_x.Compiler:
    compiler = yara_x.Compiler(relaxed_re_syntax=relaxed)
    for name in EXTERNALS:
        compiler.define_global(name, "")
    return compiler


def _read(path: Path) -> str:
    # Rule files are ASCII in practice; a stray Latin-1 byte sits in comments or strings.
    return path.read_bytes().decode("utf-8", errors="replace")


def _file_errors(path: Path, errors: list[dict[str, Any]]) -> list[InputProblem]:
    found = []
    lines = _read(path).splitlines()
    for error in errors:
        labels = [label.get("text", "") for label in error.get("labels") or [] if label.get("text")]
        reason = str(error.get("title", "error"))
        if labels:
            reason += ": " + "; ".join(labels)
        line = error.get("line")
        raw = lines[line - 1] if isinstance(line, int) and 0 < line <= len(lines) else ""
        code = str(error.get("code", ""))
        found.append(file_error(str(path), line, error.get("column"), code, reason, raw))
    return found


def check_file(path: Path, *, relaxed: bool = True) -> list[InputProblem]:
    """The compiler's errors for one rule file alone (empty when it compiles)."""
    compiler = _compiler(relaxed)
    try:
        compiler.add_source(_read(path), origin=str(path))
    except yara_x.CompileError:
        return _file_errors(path, compiler.errors()) or [
            file_error(str(path), None, None, "", "does not compile")
        ]
    return []


def build_rules(
    files: list[tuple[Path, str]], *, relaxed: bool = True
) -> tuple[yara_x.Rules, CompileReport]:
    """Compile the files that compile alone, together; report the others."""
    report = CompileReport(files=len(files))
    good = []
    for path, namespace in files:
        problems = check_file(path, relaxed=relaxed)
        if problems:
            report.errors.extend(problems)
        else:
            good.append((path, namespace))
    compiler = _compiler(relaxed)
    for path, namespace in good:
        compiler.new_namespace(namespace)
        try:
            compiler.add_source(_read(path), origin=str(path))
        except yara_x.CompileError:
            # It compiled alone, so this is a clash with another file (an include, a global
            # rule); the compiler keeps the file's other rules and we report the clash.
            report.errors.extend(_file_errors(path, compiler.errors()[-1:]))
    rules = compiler.build()
    report.warnings = len(compiler.warnings())
    report.rules = sum(1 for _ in rules)
    return rules, report


def compile_rules(
    paths: Iterable[Path], cache_dir: Path | None = None, *, relaxed: bool = True
) -> CompiledRules:
    """The compiled rules of `paths`, from `cache_dir` when the sources have not changed.

    `relaxed` accepts the regular expressions libyara accepts (e.g. an escaped letter that means
    the letter), which rule sets written for libyara rely on.
    """
    files = rule_files(list(paths))
    if not files:
        raise YaraError(
            "no .yar or .yara files found", location=Location(", ".join(map(str, paths)))
        )
    digest = sources_digest(files, relaxed=relaxed)
    cache_path = cache_dir / f"{digest}.yarc" if cache_dir is not None else None
    if cache_path is not None:
        cached = _load_cached(cache_path, digest)
        if cached is not None:
            return cached
    rules, report = build_rules(files, relaxed=relaxed)
    compiled = CompiledRules(rules, report, digest, from_cache=False, cache_path=cache_path)
    if cache_path is not None:
        _store(compiled, cache_path)
    return compiled


def _report_path(cache_path: Path) -> Path:
    return cache_path.with_suffix(".json")


def _load_cached(cache_path: Path, digest: str) -> CompiledRules | None:
    report_path = _report_path(cache_path)
    if not (cache_path.is_file() and report_path.is_file()):
        return None
    try:
        report = CompileReport.from_json(json.loads(report_path.read_text(encoding="utf-8")))
        with cache_path.open("rb") as fh:
            rules = yara_x.Rules.deserialize_from(fh)
    except (OSError, ValueError, KeyError, TypeError, yara_x.CompileError):
        return None  # a damaged cache is rebuilt, not trusted
    return CompiledRules(rules, report, digest, from_cache=True, cache_path=cache_path)


def _store(compiled: CompiledRules, cache_path: Path) -> None:
    """Write the rules, then the report: a reader finds both or treats the cache as absent."""
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache_path.with_suffix(f".tmp-{os.getpid()}")
    tmp.write_bytes(compiled.serialized())
    os.replace(tmp, cache_path)
    report_tmp = _report_path(cache_path).with_suffix(f".tmp-{os.getpid()}")
    report_tmp.write_text(json.dumps(compiled.report.to_json(), indent=1), encoding="utf-8")
    os.replace(report_tmp, _report_path(cache_path))
