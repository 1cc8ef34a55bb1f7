"""Windows event log files (.evtx), parsed by the Rust `evtx` library.

A damaged file still yields every record that can be read. The parser skips a chunk it cannot
read; we report it. A file cut short loses its partial last chunk in the parser, so we pad that
chunk with zeros: the records written before the cut come back, and the cut is reported.
"""

from __future__ import annotations

import io
import re
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import evtx
import orjson

from vigil.lake.quarantine import QuarantineEntry
from vigil.monitor.ingest.sources.base import DATASET, LogSource, RawRecord
from vigil.monitor.ingest.sources.winevent import record_from_event

MAGIC = b"ElfFile\x00"
HEADER_BLOCK = 4096
CHUNK = 65536
_CHUNK_ERROR = re.compile(r"chunk containing record IDs (\d+)\.\.(\d+)")


def _entry(path: Path, reason: str, record: str | None = None, raw: str = "") -> QuarantineEntry:
    return QuarantineEntry(
        dataset=DATASET, source=str(path), reason=f"evtx: {reason}", record=record, raw=raw
    )


class EvtxSource(LogSource):
    name: ClassVar[str] = "evtx"
    description: ClassVar[str] = "Windows event log files (.evtx)"
    rewritten: ClassVar[bool] = True

    def sniff(self, path: Path) -> bool:
        with path.open("rb") as fh:
            return fh.read(len(MAGIC)) == MAGIC

    def read(self, path: Path) -> Iterator[RawRecord | QuarantineEntry]:
        data = path.read_bytes()
        if len(data) < 128 or not data.startswith(MAGIC):
            yield _entry(path, f"not an EVTX file or header cut short ({len(data)} bytes)")
            return
        chunks_announced = struct.unpack_from("<H", data, 42)[0]
        body = len(data) - HEADER_BLOCK
        whole, partial = divmod(max(body, 0), CHUNK)
        if partial:
            # Zero padding keeps the partial chunk's records that were complete before the cut.
            size = len(data)
            data += b"\x00" * (CHUNK - partial)
            yield _entry(
                path,
                f"file truncated inside chunk {whole}: {size} bytes where the chunk needs "
                f"{HEADER_BLOCK + (whole + 1) * CHUNK}; records after the cut are lost",
                record=f"chunk {whole}",
            )
        elif whole < chunks_announced:
            yield _entry(
                path,
                f"file truncated: header announces {chunks_announced} chunks, {whole} present",
                record=f"chunk {whole}",
            )
        try:
            parser = evtx.PyEvtxParser(io.BytesIO(data), number_of_threads=1)
        except (OSError, RuntimeError) as e:
            yield _entry(path, f"unreadable: {e}")
            return
        records = parser.records_json()
        failures = 0
        while failures <= chunks_announced + whole + 1:  # the parser moves on one chunk per error
            try:
                item = next(records)
            except StopIteration:
                return
            except (RuntimeError, OSError, ValueError) as e:
                found = _CHUNK_ERROR.search(str(e))
                where = f"records {found.group(1)}..{found.group(2)}" if found else None
                yield _entry(path, f"unreadable chunk: {e}", record=where)
                failures += 1
                continue
            if type(item) is not dict:
                continue
            try:
                yield record_from_event(orjson.loads(item["data"])["Event"])
            except (KeyError, TypeError, ValueError) as e:  # orjson.JSONDecodeError is one
                yield _entry(
                    path,
                    f"record is not a Windows event: {e}",
                    record=f"record {item.get('event_record_id')}",
                    raw=str(item.get("data", ""))[:4096],
                )
