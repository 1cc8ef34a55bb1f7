"""Filled checklists: the answers an inspector wrote offline, as YAML or an XLSX sheet.

YAML: `answers:` a list of `{control, status, note}`. XLSX: the first sheet, a header row naming
the columns `control`, `status` and `note` (any order, other columns ignored). Status words in
English or Vietnamese (pass/đạt, partial/đạt một phần, fail/không đạt, na/không áp dụng).
A row that cannot be read is a problem naming the file and its line or row; the others count.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from vigil.core.problems import InputProblem
from vigil.inspect.errors import EvidenceError
from vigil.inspect.evidence.verdict import fold

_STATUS_WORDS = {
    "pass": "pass",
    "passed": "pass",
    "yes": "pass",
    "dat": "pass",
    "co": "pass",
    "partial": "partial",
    "dat mot phan": "partial",
    "mot phan": "partial",
    "fail": "fail",
    "failed": "fail",
    "no": "fail",
    "khong dat": "fail",
    "khong": "fail",
    "na": "na",
    "n/a": "na",
    "not applicable": "na",
    "khong ap dung": "na",
}


@dataclass(frozen=True)
class ChecklistAnswer:
    control: str
    status: str
    note: str
    line: int | None


def status_of(word: object) -> str | None:
    return _STATUS_WORDS.get(fold(str(word or "")).strip())


def _row(
    source: str,
    control: Any,
    status: Any,
    note: Any,
    line: int | None,
    problems: list[InputProblem],
) -> ChecklistAnswer | None:
    if not control:
        problems.append(InputProblem.error(source, "no control id", line=line, code="missing"))
        return None
    parsed = status_of(status)
    if parsed is None:
        problems.append(
            InputProblem.error(
                source, f"control {control}: unknown status {status!r}", line=line, code="status"
            )
        )
        return None
    return ChecklistAnswer(str(control).strip(), parsed, str(note or "").strip(), line)


def _read_yaml(path: Path, problems: list[InputProblem]) -> list[ChecklistAnswer]:
    source = str(path)
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        mark = getattr(e, "problem_mark", None)
        raise EvidenceError(f"{source}:{mark.line + 1 if mark else '?'}: not valid YAML") from e
    if not isinstance(root, yaml.MappingNode):
        raise EvidenceError(f"{source}: a checklist is a mapping with 'answers:'")
    answers_node = next((v for k, v in root.value if k.value == "answers"), None)
    if not isinstance(answers_node, yaml.SequenceNode):
        raise EvidenceError(f"{source}: 'answers' must be a list")
    out = []
    for item in answers_node.value:
        line = item.start_mark.line + 1
        if not isinstance(item, yaml.MappingNode):
            problems.append(InputProblem.error(source, "an answer must be a mapping", line=line))
            continue
        fields = {k.value: getattr(v, "value", None) for k, v in item.value}
        row = _row(
            source, fields.get("control"), fields.get("status"), fields.get("note"), line, problems
        )
        if row is not None:
            out.append(row)
    return out


def _read_xlsx(path: Path, problems: list[InputProblem]) -> list[ChecklistAnswer]:
    from openpyxl import load_workbook

    source = str(path)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as e:
        raise EvidenceError(f"{source}: not a readable XLSX workbook: {e}") from e
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = [fold(str(c or "")).strip() for c in next(rows, ())]
        if "control" not in header or "status" not in header:
            raise EvidenceError(f"{source}: the first row must name 'control' and 'status'")
        col = {name: header.index(name) for name in ("control", "status", "note") if name in header}
        out = []
        for number, values in enumerate(rows, start=2):
            if not any(values):
                continue
            cells = list(values)
            row = _row(
                source,
                cells[col["control"]],
                cells[col["status"]],
                cells[col["note"]] if "note" in col else "",
                number,
                problems,
            )
            if row is not None:
                out.append(row)
        return out
    finally:
        book.close()


def read_checklist(path: Path) -> tuple[list[ChecklistAnswer], list[InputProblem]]:
    problems: list[InputProblem] = []
    if path.suffix.lower() == ".xlsx":
        return _read_xlsx(path, problems), problems
    if path.suffix.lower() in (".yaml", ".yml"):
        return _read_yaml(path, problems), problems
    raise EvidenceError(f"{path}: a checklist is YAML (.yaml) or XLSX (.xlsx)")


def write_checklist_xlsx(path: Path, rows: list[tuple[str, str, str]]) -> None:
    """A blank checklist to fill: control id, title, status, note."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["control", "title", "status", "note"])
    for control, title, status in rows:
        sheet.append([control, title, status, ""])
    book.save(path)
