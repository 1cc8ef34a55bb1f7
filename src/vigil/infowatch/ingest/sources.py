"""The file formats posts come in; each reads records and quarantines what it cannot read.

A format is a `PostSource` registered in `SOURCES` (a plugin point, not a chain of ifs): JSON
lines and CSV exports in the schema of `schema.py`, RSS and Atom news feeds, and the plain-text
export of reported messages (`[time] sender: text`, one message a line).
"""

from __future__ import annotations

import csv
import io
import json
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import feedparser

from vigil.infowatch.ingest.schema import DATASET, RecordError, to_row
from vigil.infowatch.text import clean, decode_bytes
from vigil.lake.quarantine import QuarantineEntry

Row = dict[str, Any]


def quarantined(path: Path, line: int | None, reason: str, raw: str = "") -> QuarantineEntry:
    return QuarantineEntry(DATASET, str(path), reason, line, None, raw[:4000])


class PostSource(ABC):
    name: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]]

    def sniff(self, path: Path, head: str) -> bool:
        return path.name.lower().endswith(self.suffixes)

    @abstractmethod
    def read(self, path: Path, text: str) -> Iterator[tuple[int, Row] | QuarantineEntry]:
        """(line, row) for each record read; a quarantine entry for each one that is not."""


class JsonLines(PostSource):
    name = "jsonl"
    suffixes = (".jsonl", ".ndjson", ".json")

    def read(self, path: Path, text: str) -> Iterator[tuple[int, Row] | QuarantineEntry]:
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                yield number, to_row(json.loads(line))
            except ValueError as e:  # json's and RecordError
                yield quarantined(path, number, str(e), line)


class Csv(PostSource):
    name = "csv"
    suffixes = (".csv",)

    def read(self, path: Path, text: str) -> Iterator[tuple[int, Row] | QuarantineEntry]:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        try:
            for record in reader:
                line = reader.line_num
                if None in record:
                    yield quarantined(path, line, "more cells than columns", str(record))
                    continue
                try:
                    yield line, to_row({k.strip(): v for k, v in record.items() if k})
                except RecordError as e:
                    yield quarantined(path, line, str(e), json.dumps(record, ensure_ascii=False))
        except csv.Error as e:
            yield quarantined(path, reader.line_num, f"not CSV: {e}")


class Feed(PostSource):
    """RSS or Atom: each entry a news post of the feed's site."""

    name = "feed"
    suffixes = (".rss", ".atom", ".xml")

    def sniff(self, path: Path, head: str) -> bool:
        return super().sniff(path, head) or head.lstrip().startswith(("<?xml", "<rss", "<feed"))

    def read(self, path: Path, text: str) -> Iterator[tuple[int, Row] | QuarantineEntry]:
        parsed = feedparser.parse(text)
        if parsed.bozo and not parsed.entries:
            yield quarantined(
                path, None, f"not an RSS or Atom feed: {parsed.get('bozo_exception')}"
            )
            return
        site = clean(str(parsed.feed.get("title", ""))) or path.stem
        handle = str(parsed.feed.get("link", "")) or path.stem
        for number, entry in enumerate(parsed.entries, start=1):
            summary = re.sub(r"<[^>]+>", " ", str(entry.get("summary", "")))
            record = {
                "platform": "news",
                "post_id": entry.get("id") or entry.get("link"),
                "account_id": handle,
                "handle": handle,
                "display_name": site,
                "page": site,
                "url": entry.get("link", ""),
                "text": f"{entry.get('title', '')}\n{summary}".strip(),
                "created_at": entry.get("published") or entry.get("updated"),
                "links": [entry["link"]] if entry.get("link") else [],
            }
            parsed_time = entry.get("published_parsed") or entry.get("updated_parsed")
            if parsed_time is not None:
                record["created_at"] = "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}+00:00".format(
                    *parsed_time[:6]
                )
            try:
                yield number, to_row(record, "news")
            except RecordError as e:
                yield quarantined(path, number, f"entry {number}: {e}", str(entry.get("id", "")))


_MESSAGE = re.compile(r"^\[(?P<at>[^\]]+)\]\s*(?P<sender>[^:]{1,100}):\s*(?P<text>.*)$")


class ReportedMessages(PostSource):
    """Messages citizens forwarded: `[2027-03-04 08:15] +84912345678: text`, a line each."""

    name = "messages"
    suffixes = (".sms", ".messages.txt", ".txt")

    def read(self, path: Path, text: str) -> Iterator[tuple[int, Row] | QuarantineEntry]:
        channel = "sms" if path.name.lower().endswith(".sms") else "chat"
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            match = _MESSAGE.match(line.strip())
            if match is None:
                yield quarantined(path, number, "not '[time] sender: text'", line)
                continue
            record = {
                "sender": match["sender"].strip(),
                "received_at": match["at"],
                "text": match["text"],
                "channel": channel,
            }
            try:
                yield number, to_row(record)
            except RecordError as e:
                yield quarantined(path, number, str(e), line)


SOURCES: tuple[PostSource, ...] = (JsonLines(), Csv(), Feed(), ReportedMessages())


def source_for(path: Path, head: str) -> PostSource | None:
    for source in SOURCES:
        if source.sniff(path, head):
            return source
    return None


def read_file(path: Path) -> tuple[str, list[tuple[int, Row]], list[QuarantineEntry]]:
    """The format, the rows and the quarantined records of one file."""
    text, _encoding = decode_bytes(path.read_bytes())
    source = source_for(path, text[:200])
    if source is None:
        return "", [], [quarantined(path, None, "unknown format (jsonl, csv, rss/atom, messages)")]
    rows: list[tuple[int, Row]] = []
    bad: list[QuarantineEntry] = []
    for item in source.read(path, text):
        if isinstance(item, QuarantineEntry):
            bad.append(item)
        else:
            rows.append(item)
    return source.name, rows, bad
