"""Log source connectors, registered in one table; `source_for` picks the one a file is in."""

from __future__ import annotations

from pathlib import Path

from vigil.monitor.errors import MonitorError
from vigil.monitor.ingest.sources.access import AccessLogSource
from vigil.monitor.ingest.sources.base import LogSource, RawRecord
from vigil.monitor.ingest.sources.evtx import EvtxSource
from vigil.monitor.ingest.sources.jsonl import JsonLinesSource
from vigil.monitor.ingest.sources.syslog import SyslogSource

__all__ = ["SOURCES", "LogSource", "RawRecord", "register_source", "source_for", "source_named"]

#: Every connector by name, in the order `source_for` asks them: the most distinctive first.
SOURCES: dict[str, type[LogSource]] = {}


def register_source(cls: type[LogSource]) -> type[LogSource]:
    """Add a connector (built-in or from a plugin); usable as a class decorator."""
    if cls.name in SOURCES and SOURCES[cls.name] is not cls:
        raise MonitorError(f"log source {cls.name!r} is registered twice")
    SOURCES[cls.name] = cls
    return cls


for _builtin in (EvtxSource, JsonLinesSource, AccessLogSource, SyslogSource):
    register_source(_builtin)


def source_named(name: str) -> LogSource:
    try:
        return SOURCES[name]()
    except KeyError as e:
        raise MonitorError(f"unknown log source {name!r}; known: {', '.join(SOURCES)}") from e


def source_for(path: Path) -> LogSource | None:
    """The first connector that recognises the file, or None."""
    for cls in SOURCES.values():
        source = cls()
        if source.sniff(path):
            return source
    return None
