"""Lynis host audits (`report.dat`, key=value lines) as evidence: the hardening index answers
the baseline control, each warning the no-open-warnings one, suggestions are kept as detail."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from vigil.core.problems import InputProblem
from vigil.inspect.errors import EvidenceError
from vigil.inspect.evidence.verdict import Verdict

#: The baseline: a hardening index below this fails SRV-1 (between it and 10 less: partial).
MIN_INDEX = 65


@dataclass
class LynisReport:
    hostname: str = ""
    index: int | None = None
    tests_done: int = 0
    #: (test id, text) of each warning and suggestion.
    warnings: list[tuple[str, str]] = field(default_factory=list)
    suggestions: list[tuple[str, str]] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)


def _item(value: str) -> tuple[str, str]:
    # warning[]=SSH-7408|Consider hardening SSH configuration|-|-|
    parts = value.split("|")
    return parts[0], parts[1] if len(parts) > 1 else ""


def read_report(path: Path) -> LynisReport:
    report = LynisReport()
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise EvidenceError(f"{path}: cannot read: {e.strerror}") from e
    text = raw.decode("utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            report.problems.append(
                InputProblem.warning(str(path), "not a key=value line", line=number, raw=line[:200])
            )
            continue
        if key == "hardening_index":
            try:
                report.index = int(value)
            except ValueError:
                report.problems.append(
                    InputProblem.warning(
                        str(path), f"hardening index {value!r} is not a number", line=number
                    )
                )
        elif key == "hostname":
            report.hostname = value
        elif key == "lynis_tests_done":
            report.tests_done = int(value) if value.isdigit() else 0
        elif key == "warning[]":
            report.warnings.append(_item(value))
        elif key == "suggestion[]":
            report.suggestions.append(_item(value))
    if report.index is None:
        raise EvidenceError(f"{path}: no hardening_index: not a Lynis report.dat")
    return report


def check_lynis(path: Path) -> list[Verdict]:
    report = read_report(path)
    index = report.index or 0
    detail = {
        "hostname": report.hostname,
        "hardening_index": index,
        "tests": report.tests_done,
        "suggestions": [f"{t}: {s}" for t, s in report.suggestions[:50]],
    }
    baseline = Verdict("lynis-index", "pass", detail=dict(detail))
    if index < MIN_INDEX:
        baseline.status = "partial" if index >= MIN_INDEX - 10 else "fail"
        baseline.short("low-index", f"hardening index {index} below {MIN_INDEX}")
    warnings = Verdict("lynis-warnings", "pass", detail={"hostname": report.hostname})
    for test, text in report.warnings:
        warnings.short(f"warning-{test}", f"{test}: {text}")
    if report.warnings:
        warnings.status = "fail"
    return [baseline, warnings]
