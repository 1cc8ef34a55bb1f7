"""How the columns of a declaration file map onto the room's own, read from a YAML file.

With no mapping a file carries the room's own column names. A mapping renames other layouts::

    columns:              # our name: the file's header
      candidate_id: "Mã hồ sơ"
      full_name: "Họ và tên"
      birth_date: "Ngày sinh"
    date_formats: ["%d/%m/%Y"]   # tried before the built-in ones
    separator: ","               # between names in one family cell (default ";")
    sheet: "Danh sách"           # XLSX: the sheet to read (default: the first)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vigil.candidates.errors import CandidatesError
from vigil.core.errors import Location

#: The columns of a declaration, in the order of the file the issue names.
COLUMNS = (
    "candidate_id",
    "full_name",
    "birth_date",
    "citizen_id",
    "commune",
    "address",
    "spouse",
    "parents",
    "children",
)
#: Cells holding several names.
FAMILY = ("spouse", "parents", "children")
#: A row without these is quarantined.
REQUIRED = ("candidate_id", "full_name", "birth_date")


@dataclass(frozen=True)
class Mapping:
    """Which header of the file holds each of our columns, and how to read dates and names."""

    columns: dict[str, str] = field(default_factory=lambda: {c: c for c in COLUMNS})
    date_formats: tuple[str, ...] = ()
    separator: str = ";"
    sheet: str | None = None


def _fail(path: Path, message: str) -> CandidatesError:
    return CandidatesError(message, location=Location(str(path)))


def load_mapping(path: Path | None) -> Mapping:
    """The mapping in `path`, or the identity mapping when none is given."""
    if path is None:
        return Mapping()
    try:
        body: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise _fail(path, f"cannot read the mapping: {e}") from e
    if not isinstance(body, dict):
        raise _fail(path, "a mapping is a YAML mapping with a 'columns' section")
    columns = body.get("columns") or {}
    if not isinstance(columns, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in columns.items()
    ):
        raise _fail(path, "'columns' maps our column names to the file's headers, as text")
    unknown = sorted(set(columns) - set(COLUMNS))
    if unknown:
        raise _fail(path, f"unknown columns {unknown}; ours are {list(COLUMNS)}")
    formats = body.get("date_formats") or []
    separator = body.get("separator", ";")
    sheet = body.get("sheet")
    if not isinstance(formats, list) or not all(isinstance(f, str) for f in formats):
        raise _fail(path, "'date_formats' is a list of strptime formats")
    if not isinstance(separator, str) or len(separator) != 1:
        raise _fail(path, "'separator' is one character")
    if sheet is not None and not isinstance(sheet, str):
        raise _fail(path, "'sheet' is the name of a sheet")
    merged = {c: c for c in COLUMNS} | {k: v.strip() for k, v in columns.items()}
    return Mapping(merged, tuple(formats), separator, sheet)
