"""Rows of an extract: CSV (any of the encodings of `encoding`), XLSX, Parquet.

Each yields (line, {header: value}); the line is the file's (the header is line 1).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from vigil.core.errors import Location
from vigil.registry.errors import RegistryError
from vigil.registry.ingest.encoding import decode

Row = tuple[int, dict[str, Any]]


def read_csv(path: Path) -> tuple[str, Iterator[Row]]:
    decoded = decode(path.read_bytes(), str(path))
    sample = decoded.text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(decoded.text, newline=""), dialect=dialect)

    def rows() -> Iterator[Row]:
        for row in reader:
            yield reader.line_num, {k: v for k, v in row.items() if k is not None}

    return decoded.encoding, rows()


def read_xlsx(path: Path) -> tuple[str, Iterator[Row]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds for a file that is not a workbook
        raise RegistryError(f"not an XLSX workbook: {e}", location=Location(str(path))) from e

    def rows() -> Iterator[Row]:
        sheet = book.worksheets[0]
        lines = sheet.iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(lines, ())]
        for number, values in enumerate(lines, start=2):
            if all(v is None for v in values):
                continue
            yield number, dict(zip(header, values, strict=False))
        book.close()

    return "xlsx", rows()


def read_parquet(path: Path) -> tuple[str, Iterator[Row]]:
    try:
        table = pq.read_table(path)
    except (OSError, ValueError) as e:
        raise RegistryError(f"not a Parquet file: {e}", location=Location(str(path))) from e

    def rows() -> Iterator[Row]:
        for batch in table.to_batches(50_000):
            for offset, row in enumerate(batch.to_pylist()):
                yield offset + 2, row

    return "parquet", rows()


READERS = {".csv": read_csv, ".txt": read_csv, ".xlsx": read_xlsx, ".parquet": read_parquet}


def read_rows(path: Path) -> tuple[str, Iterator[Row]]:
    """(encoding or format, rows) of the extract at `path`, chosen by its suffix."""
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise RegistryError(
            f"unknown extract type {path.suffix!r} (CSV, XLSX or Parquet)",
            location=Location(str(path)),
        )
    return reader(path)
