"""Reading a declaration file (CSV or XLSX) into rows, each bad row a problem with its line.

A row is checked on its own (`parse_row`), so one bad row never costs the others: it becomes an
`InputProblem` with the file, the line and the reason, and the raw row is kept for the
quarantine. Text is read as UTF-8 (with or without a byte-order mark), UTF-16 (with one), or the
legacy Vietnamese TCVN3 and VNI, detected and decoded as the registry's importer does.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from vigil.candidates.errors import CandidatesError
from vigil.candidates.mapping import COLUMNS, REQUIRED, Mapping
from vigil.candidates.names import clean_text
from vigil.core.errors import Location
from vigil.core.problems import InputProblem
from vigil.registry.errors import RegistryError
from vigil.registry.ingest.encoding import decode as decode_text
from vigil.registry.text import normalise_name

#: Date layouts tried after the mapping's own: ISO first, then day before month as written
#: in Vietnam.
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d")
MAX_ID = 64
MAX_TEXT = 300
MAX_NAMES = 30
_ID = re.compile(r"^[\w.\-/]+$", re.UNICODE)
_CITIZEN_ID_NOISE = re.compile(r"[\s.\-]")


@dataclass(frozen=True)
class Declaration:
    """What one candidate declared, cleaned: text NFC, family names one per item."""

    candidate_id: str
    full_name: str
    birth_date: date
    citizen_id: str | None = None
    commune: str | None = None
    address: str | None = None
    spouse: tuple[str, ...] = ()
    parents: tuple[str, ...] = ()
    children: tuple[str, ...] = ()
    line: int | None = None


@dataclass
class ReadResult:
    declarations: list[Declaration] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)
    encoding: str = ""
    rows: int = 0


class RowError(ValueError):
    """Why one row cannot be taken."""


def decode(raw: bytes, source: str) -> tuple[str, str]:
    """The text of a file and the encoding it was in: UTF-8 or UTF-16, or the legacy
    Vietnamese TCVN3 and VNI, told apart by the registry's importer (`registry.ingest`)."""
    try:
        decoded = decode_text(raw)
    except RegistryError as e:
        # Its message starts with the source it was given (none here): ours carries the place.
        raise CandidatesError(e.message.removeprefix(": "), location=Location(source)) from e
    return decoded.text, decoded.encoding


def _records_csv(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") and "\t" not in sample else ","
    if sample.count("\t") > sample.count(delimiter):
        delimiter = "\t"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            yield line, {"__error__": f"unreadable CSV: {e}"}
            continue
        if header is None:
            header = [clean_text(h) for h in row]
            yield 0, {"__header__": "\x1f".join(header)}
            continue
        if not any(cell.strip() for cell in row):
            continue
        record = dict(zip(header, row, strict=False))
        if len(row) > len(header):
            record["__error__"] = f"{len(row)} cells for {len(header)} columns"
        yield line, record


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _records_xlsx(path: Path, sheet: str | None) -> Iterator[tuple[int, dict[str, str]]]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as e:
        raise CandidatesError(f"not a readable XLSX file: {e}", location=Location(str(path))) from e
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise CandidatesError(
                f"no sheet {sheet!r}; it has {book.sheetnames}", location=Location(str(path))
            )
        ws = book[sheet] if sheet else book.worksheets[0]
        header: list[str] | None = None
        for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
            cells = [_cell(v) for v in row]
            if header is None:
                header = [clean_text(h) for h in cells]
                yield 0, {"__header__": "\x1f".join(header)}
                continue
            if any(c.strip() for c in cells):
                yield number, dict(zip(header, cells, strict=False))
    finally:
        book.close()


def parse_date(text: str, formats: tuple[str, ...] = ()) -> date:
    value = text.strip()
    for fmt in (*formats, *DATE_FORMATS):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise RowError(f"birth_date {value[:40]!r} is not a date (e.g. 1980-05-12 or 12/05/1980)")


def _text(record: dict[str, str], mapping: Mapping, name: str) -> str:
    value = clean_text(record.get(mapping.columns[name]) or "")
    if len(value) > MAX_TEXT:
        raise RowError(f"{name} is longer than {MAX_TEXT} characters")
    return value


def _names(record: dict[str, str], mapping: Mapping, name: str) -> tuple[str, ...]:
    items = tuple(
        n
        for n in (clean_text(p) for p in _text(record, mapping, name).split(mapping.separator))
        if n
    )
    if len(items) > MAX_NAMES:
        raise RowError(f"{name} lists more than {MAX_NAMES} names")
    if any(not any(ch.isalpha() for ch in n) for n in items):
        raise RowError(f"{name} holds a name without a letter")
    return items


def parse_row(record: dict[str, str], mapping: Mapping, line: int | None = None) -> Declaration:
    """One row of the file as a declaration; RowError says why it cannot be one."""
    if "__error__" in record:
        raise RowError(record["__error__"])
    missing = [c for c in REQUIRED if not _text(record, mapping, c)]
    if missing:
        raise RowError(f"required field {', '.join(missing)} is empty")
    candidate_id = _text(record, mapping, "candidate_id")
    if len(candidate_id) > MAX_ID or not _ID.match(candidate_id):
        raise RowError(f"candidate_id {candidate_id[:40]!r} is not an identifier")
    full_name = _text(record, mapping, "full_name")
    if not any(ch.isalpha() for ch in full_name):
        raise RowError("full_name holds no letter")
    # Capitals back where a legacy encoding (TCVN3) could not write them, as the registry does.
    full_name = normalise_name(full_name) or full_name
    citizen_id = _CITIZEN_ID_NOISE.sub("", _text(record, mapping, "citizen_id"))
    if len(citizen_id) > 32:
        raise RowError("citizen_id is longer than 32 characters")
    return Declaration(
        candidate_id=candidate_id,
        full_name=full_name,
        birth_date=parse_date(_text(record, mapping, "birth_date"), mapping.date_formats),
        citizen_id=citizen_id or None,
        commune=_text(record, mapping, "commune") or None,
        address=_text(record, mapping, "address") or None,
        spouse=_names(record, mapping, "spouse"),
        parents=_names(record, mapping, "parents"),
        children=_names(record, mapping, "children"),
        line=line,
    )


def _raw(record: dict[str, str]) -> str:
    return "\x1f".join(f"{k}={v}" for k, v in record.items() if not k.startswith("__"))


def read_declarations(path: Path, mapping: Mapping) -> ReadResult:
    """Every row of the file: the good ones as declarations, the bad ones as problems."""
    source = str(path)
    result = ReadResult()
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        records = _records_xlsx(path, mapping.sheet)
        result.encoding = "xlsx"
    else:
        try:
            raw = path.read_bytes()
        except OSError as e:
            raise CandidatesError(f"cannot read: {e}", location=Location(source)) from e
        text, result.encoding = decode(raw, source)
        records = _records_csv(text)
    seen: dict[str, int | None] = {}
    for line, record in records:
        if "__header__" in record:
            _check_header(record["__header__"].split("\x1f"), mapping, source)
            continue
        result.rows += 1
        try:
            declaration = parse_row(record, mapping, line)
            if declaration.candidate_id in seen:
                raise RowError(
                    f"candidate_id {declaration.candidate_id} repeated "
                    f"(first on line {seen[declaration.candidate_id]})"
                )
        except RowError as e:
            result.problems.append(
                InputProblem.error(source, str(e), line=line, code="bad-row", raw=_raw(record))
            )
            continue
        seen[declaration.candidate_id] = line
        result.declarations.append(declaration)
    return result


def _check_header(header: list[str], mapping: Mapping, source: str) -> None:
    wanted = [mapping.columns[c] for c in COLUMNS]
    missing = [h for h in wanted if h not in header]
    if missing:
        raise CandidatesError(
            f"the header lacks the columns {missing} (it has {header[:12]}); "
            "name them so or give --mapping",
            location=Location(source, 1),
        )


__all__ = ["COLUMNS", "Declaration", "ReadResult", "parse_row", "read_declarations"]
