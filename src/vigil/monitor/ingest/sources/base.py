"""What a log source connector is: it recognises its files and turns them into records."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from vigil.lake.quarantine import QuarantineEntry

DATASET = "monitor_events"


@dataclass(slots=True)
class RawRecord:
    """One event as a source read it, before it becomes a row of monitor_events."""

    ts: datetime  # naive UTC
    host: str
    #: Sparse fields by their Sigma names; values are text (None: present but empty in the source).
    fields: dict[str, str | None] = field(default_factory=dict)
    channel: str = ""
    event_code: int | None = None
    message: str | None = None
    #: What makes the event unique within its host and channel (record id, line text...).
    key: str = ""


class LineError(ValueError):
    """A line that a parser cannot read; the message is the reason kept in quarantine."""


class LogSource(ABC):
    """A log format. Subclasses are registered in `vigil.monitor.ingest.sources.SOURCES`."""

    #: Short name stored in the `source` column and accepted by `--source`.
    name: ClassVar[str]
    description: ClassVar[str]
    #: A file of this format may be rewritten in place with the records it held (a live Windows
    #: event log, a log exported again under the same name): read again, it keeps only the
    #: records whose ids the lake does not hold from that path (see `monitor.ingest.pipeline`).
    rewritten: ClassVar[bool] = False
    #: The deployment's fixed clock (UTC; None: the real time), set by the ingest before it
    #: reads: a format that omits the year dates its records by it (see the syslog source).
    clock: datetime | None = None

    @abstractmethod
    def sniff(self, path: Path) -> bool:
        """True if the file looks like this format (cheap: reads the first bytes only)."""

    @abstractmethod
    def read(self, path: Path) -> Iterator[RawRecord | QuarantineEntry]:
        """Every readable record; each unreadable part as a quarantine entry, never an exception."""


def first_line(path: Path, limit: int = 65536) -> str:
    """The first non-blank line of a text file ('' if none, or if the start is not text)."""
    with path.open("rb") as fh:
        head = fh.read(limit)
    if b"\x00" in head[:4096]:
        return ""
    for raw in head.splitlines():
        text = raw.decode("utf-8", "replace").strip()
        if text:
            return text
    return ""


class LineSource(LogSource):
    """A text format with one record per line; bad lines go to quarantine with file:line."""

    @abstractmethod
    def parse_line(self, line: str, path: Path) -> RawRecord:
        """Parse one line (without its newline) or raise LineError with the reason."""

    def read(self, path: Path) -> Iterator[RawRecord | QuarantineEntry]:
        return self.read_appended(path, 0)

    def read_appended(self, path: Path, offset: int) -> Iterator[RawRecord | QuarantineEntry]:
        """The records of the lines after byte `offset` (a line boundary): what was appended
        to a file read before up to there. Line numbers and the numbering of repeated lines
        go on from the lines before, so each record is what a whole read would give."""
        seen: dict[str, int] = {}
        lines_before = 0
        with path.open("rb") as fh:
            if offset:
                before = fh.read(offset).split(b"\n")
                before.pop()  # what follows the last newline: nothing, at a line boundary
                lines_before = len(before)
                for raw in before:
                    text = raw.rstrip(b"\r\n").decode("utf-8", "replace")
                    seen[text] = seen.get(text, 0) + 1
            for number, raw in enumerate(fh, start=lines_before + 1):
                raw = raw.rstrip(b"\r\n")
                if not raw.strip():
                    continue
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    yield self.quarantine(path, number, f"not UTF-8 at byte {e.start}", raw)
                    continue
                try:
                    record = self.parse_line(line, path)
                except LineError as e:
                    yield self.quarantine(path, number, str(e), raw)
                    continue
                if not record.key:
                    # Identical lines are distinct events: number the repeats.
                    repeat = seen.get(line, 0)
                    seen[line] = repeat + 1
                    record.key = f"{line}\x1f{repeat}"
                yield record

    def quarantine(self, path: Path, line: int, reason: str, raw: bytes) -> QuarantineEntry:
        return QuarantineEntry(
            dataset=DATASET,
            source=str(path),
            reason=f"{self.name}: {reason}",
            line=line,
            raw=raw.decode("utf-8", "replace"),
        )
