"""Syslog files: RFC 5424, RFC 3164 (BSD) and rsyslog's ISO-timestamp file format.

RFC 3164 gives neither year nor zone: the year is the deployment's (its fixed clock, or else the
file's modification time for the real one), the year before for a month ahead of it (a December
line read in January is last year's); the zone is the province's, as local servers write it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import ClassVar

from vigil.core.clock import PROVINCE_TZ, to_utc
from vigil.monitor.ingest.sources.base import LineError, LineSource, RawRecord, first_line

FACILITIES = (
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
)
SEVERITIES = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")
MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}

_PRI = r"<(?P<pri>\d{1,3})>"
RFC5424 = re.compile(
    _PRI + r"(?P<version>[1-9]\d?) (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+) (?P<procid>\S+) "
    r"(?P<msgid>\S+) (?P<rest>.*)$",
    re.DOTALL,
)
RFC3164 = re.compile(
    r"(?:" + _PRI + r")?(?P<mon>[A-Z][a-z]{2}) (?P<day>[ \d]\d) "
    r"(?P<h>\d{2}):(?P<m>\d{2}):(?P<s>\d{2}) (?P<host>\S+) (?P<rest>.*)$",
    re.DOTALL,
)
ISO_FILE = re.compile(
    r"(?:" + _PRI + r")?(?P<ts>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})) "
    r"(?P<host>\S+) (?P<rest>.*)$",
    re.DOTALL,
)
TAG = re.compile(
    r"(?P<app>[^\s:\[\]]{1,48})(?:\[(?P<pid>[^\]\s]{1,128})\])?: ?(?P<msg>.*)$", re.DOTALL
)
_SD_NAME = re.compile(r"[^= \]\"]{1,32}")


def parse_pri(text: str | None, fields: dict[str, str | None]) -> str:
    """Facility and severity into `fields`; returns the channel (facility name, or 'syslog')."""
    if text is None:
        return "syslog"
    pri = int(text)
    if pri > 191:
        raise LineError(f"priority {pri} is above 191")
    facility, severity = divmod(pri, 8)
    fields["facility"] = FACILITIES[facility]
    fields["severity"] = SEVERITIES[severity]
    return FACILITIES[facility]


def parse_rfc3339(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as e:
        raise LineError(f"bad timestamp {text[:40]!r}") from e
    if parsed.tzinfo is None:
        raise LineError(f"timestamp {text[:40]!r} has no zone")
    try:
        return to_utc(parsed)
    except OverflowError as e:
        raise LineError(f"timestamp {text[:40]!r} is out of range") from e


def parse_structured_data(text: str) -> tuple[dict[str, str | None], str]:
    """RFC 5424 STRUCTURED-DATA: params as 'sd-id.name', and the text after it (the MSG)."""
    if text.startswith("-"):
        if len(text) > 1 and text[1] != " ":
            raise LineError("structured data '-' must be followed by a space or the end")
        return {}, text[2:]
    params: dict[str, str | None] = {}
    i = 0
    while i < len(text) and text[i] == "[":
        m = _SD_NAME.match(text, i + 1)
        if not m:
            raise LineError(f"bad structured-data id at column {i + 1}")
        sd_id, i = m.group(0), m.end()
        while i < len(text) and text[i] == " ":
            name = _SD_NAME.match(text, i + 1)
            if not name or text[name.end() : name.end() + 2] != '="':
                raise LineError(f"bad structured-data parameter at column {i + 1}")
            j, value = name.end() + 2, []
            while j < len(text) and text[j] != '"':
                if text[j] == "\\" and j + 1 < len(text) and text[j + 1] in '"\\]':
                    j += 1
                value.append(text[j])
                j += 1
            if j >= len(text):
                raise LineError("unterminated structured-data value")
            params[f"{sd_id}.{name.group(0)}"] = "".join(value)
            i = j + 1
        if i >= len(text) or text[i] != "]":
            raise LineError(f"structured data not closed at column {i + 1}")
        i += 1
    if i == 0:
        raise LineError("structured data must be '-' or start with '['")
    if i < len(text) and text[i] != " ":
        raise LineError(f"expected a space after structured data at column {i + 1}")
    return params, text[i + 1 :]


@lru_cache(maxsize=64)
def _reference_time(path: str, mtime: float) -> datetime:
    return datetime.fromtimestamp(mtime, PROVINCE_TZ).replace(tzinfo=None)


class SyslogSource(LineSource):
    name: ClassVar[str] = "syslog"
    description: ClassVar[str] = "syslog files (RFC 5424, RFC 3164, rsyslog file format)"

    def sniff(self, path: Path) -> bool:
        line = first_line(path)
        return bool(RFC5424.match(line) or RFC3164.match(line) or ISO_FILE.match(line))

    def parse_line(self, line: str, path: Path) -> RawRecord:
        fields: dict[str, str | None] = {}
        m = RFC5424.match(line)
        if m:
            return self._rfc5424(m, fields)
        m = ISO_FILE.match(line)
        if m:
            channel = parse_pri(m.group("pri"), fields)
            return self._tagged(
                m.group("rest"), parse_rfc3339(m.group("ts")), m.group("host"), channel, fields
            )
        m = RFC3164.match(line)
        if m:
            channel = parse_pri(m.group("pri"), fields)
            return self._tagged(
                m.group("rest"), self._bsd_time(m, path), m.group("host"), channel, fields
            )
        raise LineError("not a syslog line (RFC 5424, RFC 3164 or ISO timestamp)")

    def _rfc5424(self, m: re.Match[str], fields: dict[str, str | None]) -> RawRecord:
        channel = parse_pri(m.group("pri"), fields)
        if m.group("ts") == "-":
            raise LineError("no timestamp (NILVALUE)")
        ts = parse_rfc3339(m.group("ts"))
        for name, group in (("program", "app"), ("pid", "procid"), ("msgid", "msgid")):
            if m.group(group) != "-":
                fields[name] = m.group(group)
        params, message = parse_structured_data(m.group("rest"))
        fields.update(params)
        message = message.removeprefix("\ufeff")
        host = "" if m.group("host") == "-" else m.group("host")
        return RawRecord(ts=ts, host=host, fields=fields, channel=channel, message=message)

    def _tagged(
        self, rest: str, ts: datetime, host: str, channel: str, fields: dict[str, str | None]
    ) -> RawRecord:
        tag = TAG.match(rest)
        message = rest
        if tag:
            fields["program"] = tag.group("app")
            if tag.group("pid") is not None:
                fields["pid"] = tag.group("pid")
            message = tag.group("msg")
        return RawRecord(ts=ts, host=host, fields=fields, channel=channel, message=message)

    def _bsd_time(self, m: re.Match[str], path: Path) -> datetime:
        month = MONTHS.get(m.group("mon"))
        if month is None:
            raise LineError(f"unknown month {m.group('mon')!r}")
        if self.clock is not None:
            reference = self.clock.replace(tzinfo=UTC).astimezone(PROVINCE_TZ)
        else:
            try:
                reference = _reference_time(str(path), path.stat().st_mtime)
            except OSError:
                reference = datetime(2000, 1, 1)
        year = reference.year - (1 if month > reference.month else 0)
        try:
            local = datetime(
                year,
                month,
                int(m.group("day")),
                int(m.group("h")),
                int(m.group("m")),
                int(m.group("s")),
            )
        except ValueError as e:
            raise LineError(f"bad date: {e}") from e
        try:
            return to_utc(local.replace(tzinfo=PROVINCE_TZ))
        except OverflowError as e:
            raise LineError(f"date out of range: {local}") from e
