"""Web server access logs in the Common and Combined formats (Apache, nginx).

Fields take the names of Sigma's webserver and proxy taxonomies, so SigmaHQ web rules read them.
The host is the web server, which the line does not name: ingest gives it (`--host`).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import ClassVar

from vigil.core.clock import to_utc
from vigil.monitor.ingest.sources.base import LineError, LineSource, RawRecord, first_line
from vigil.monitor.ingest.sources.syslog import MONTHS

COMBINED = re.compile(
    r"(?P<client>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<time>[^\]]+)\] "
    r'"(?P<request>(?:[^"\\]|\\.)*)" (?P<status>\d{3}) (?P<bytes>\d+|-)'
    r'(?: "(?P<referer>(?:[^"\\]|\\.)*)" "(?P<agent>(?:[^"\\]|\\.)*)")?$'
)
TIME = re.compile(r"(\d{2})/([A-Z][a-z]{2})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$")
REQUEST = re.compile(r"(?P<method>[A-Za-z]+) (?P<target>\S+)(?: (?P<version>[A-Za-z]+/[\d.]+))?$")

#: Our field -> further Sigma names for the same value (the proxy taxonomy's spellings).
ALIASES: dict[str, tuple[str, ...]] = {
    "cs-user-agent": ("c-useragent",),
    "cs-uri": ("c-uri",),
    "cs-uri-query": ("c-uri-query",),
}


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def parse_time(text: str) -> datetime:
    m = TIME.match(text)
    if not m:
        raise LineError(f"bad time {text[:40]!r}")
    day, mon, year, h, mi, s, sign, zh, zm = m.groups()
    month = MONTHS.get(mon)
    if month is None:
        raise LineError(f"unknown month {mon!r}")
    offset = timedelta(hours=int(zh), minutes=int(zm)) * (-1 if sign == "-" else 1)
    try:
        local = datetime(
            int(year), month, int(day), int(h), int(mi), int(s), tzinfo=timezone(offset)
        )
        return to_utc(local)
    except (ValueError, OverflowError) as e:
        raise LineError(f"bad time {text[:40]!r}: {e}") from e


class AccessLogSource(LineSource):
    name: ClassVar[str] = "access"
    description: ClassVar[str] = "web server access logs (Common / Combined format)"

    def sniff(self, path: Path) -> bool:
        return bool(COMBINED.match(first_line(path)))

    def parse_line(self, line: str, path: Path) -> RawRecord:
        m = COMBINED.match(line)
        if not m:
            raise LineError("not a Common/Combined access log line")
        ts = parse_time(m.group("time"))
        request = _unescape(m.group("request"))
        fields: dict[str, str | None] = {
            "c-ip": m.group("client"),
            "cs-username": None if m.group("user") == "-" else m.group("user"),
            "sc-status": m.group("status"),
            "sc-bytes": None if m.group("bytes") == "-" else m.group("bytes"),
            "cs-request": request,
        }
        req = REQUEST.match(request)
        if req:
            target = req.group("target")
            stem, _, query = target.partition("?")
            fields.update(
                {
                    "cs-method": req.group("method"),
                    "cs-uri": target,
                    "cs-uri-stem": stem,
                    "cs-uri-query": query or None,
                    "cs-version": req.group("version"),
                }
            )
        if m.group("referer") is not None:
            referer = _unescape(m.group("referer"))
            fields["cs-referer"] = None if referer == "-" else referer
            fields["cs-user-agent"] = _unescape(m.group("agent"))
        for name, aliases in ALIASES.items():
            for alias in aliases:
                if fields.get(name) is not None:
                    fields[alias] = fields[name]
        return RawRecord(
            ts=ts,
            host="",
            fields=fields,
            channel="access",
            message=line,
            event_code=int(m.group("status")),
        )
