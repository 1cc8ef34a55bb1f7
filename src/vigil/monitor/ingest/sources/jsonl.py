"""JSON lines: Windows/Sysmon events rendered as JSON, Security-Datasets exports, ECS documents.

Each line is one JSON object. Its flavour is told by its keys; each flavour's field names map
to Sigma's through a table, so the same rules read every flavour.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from vigil.core.clock import to_utc
from vigil.monitor.ingest.sources.base import LineError, LineSource, RawRecord, first_line
from vigil.monitor.ingest.sources.winevent import (
    add_common_names,
    add_event_aliases,
    record_from_event,
    text_of,
)

#: Security-Datasets (OTRF) exports: flat Windows events; these keys are core columns.
FLAT_CORE = {"host": ("Hostname", "Computer"), "channel": ("Channel",), "event_code": ("EventID",)}
FLAT_RENAMES = {"SourceName": "Provider_Name"}
#: Keys that only describe the export, not the event.
FLAT_DROP = frozenset({"@version", "Keywords", "tags", "port", "type", "host"})

#: ECS (Elastic Common Schema) names -> Sigma names; the dotted originals are kept as well.
ECS_TO_SIGMA: dict[str, str] = {
    "process.command_line": "CommandLine",
    "process.executable": "Image",
    "process.pid": "ProcessId",
    "process.working_directory": "CurrentDirectory",
    "process.parent.executable": "ParentImage",
    "process.parent.command_line": "ParentCommandLine",
    "process.parent.pid": "ParentProcessId",
    "process.hash.sha256": "sha256",
    "process.pe.original_file_name": "OriginalFileName",
    "user.name": "User",
    "file.path": "TargetFilename",
    "registry.path": "TargetObject",
    "registry.data.strings": "Details",
    "source.ip": "SourceIp",
    "source.port": "SourcePort",
    "destination.ip": "DestinationIp",
    "destination.port": "DestinationPort",
    "destination.domain": "DestinationHostname",
    "dns.question.name": "QueryName",
    "url.original": "c-uri",
    "user_agent.original": "c-useragent",
    "http.request.method": "cs-method",
    "http.response.status_code": "sc-status",
    "winlog.provider_name": "Provider_Name",
}
ECS_HOST = ("winlog.computer_name", "host.name", "host.hostname")
ECS_CHANNEL = ("winlog.channel", "event.dataset")
ECS_CODE = ("winlog.event_id", "event.code")
ECS_EVENT_DATA = "winlog.event_data."


def parse_timestamp(value: Any) -> datetime:
    """ISO 8601 text (zone optional: UTC) or epoch seconds/milliseconds, as naive UTC."""
    if isinstance(value, bool):
        raise LineError("timestamp is a boolean")
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)
        except (OverflowError, OSError, ValueError) as e:
            raise LineError(f"timestamp {value!r} out of range") from e
    if not isinstance(value, str):
        raise LineError("timestamp is not text or a number")
    try:
        return to_utc(datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
    except (ValueError, OverflowError) as e:
        raise LineError(f"bad timestamp {value[:40]!r}") from e


def _flatten(data: Mapping[str, Any], prefix: str, out: dict[str, Any]) -> None:
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            _flatten(value, f"{name}.", out)
        else:
            out[name] = value


def _first(data: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if data.get(key) is not None:
            return data[key]
    return None


def _code(value: Any) -> int | None:
    text = text_of(value)
    if text is None:
        return None
    text = text.strip()
    if not text.isdigit() or len(text) > 9:
        return None
    return int(text)


def _windows_event(doc: Mapping[str, Any]) -> RawRecord:
    try:
        return record_from_event(doc["Event"])
    except (KeyError, TypeError, ValueError) as e:
        raise LineError(f"not a Windows event: {e}") from e


def _record_key(record_id: Any, ts: datetime, code: int | None) -> str:
    """The record id with the event's time and code, as for EVTX: a cleared log numbers its
    records from 1 again, and a new event must not pass for an old one with the same id."""
    text = text_of(record_id)
    return f"{text}\x1f{ts.isoformat()}\x1f{code}" if text else ""


def _flat_windows(doc: Mapping[str, Any]) -> RawRecord:
    ts = parse_timestamp(_first(doc, ("@timestamp", "TimeCreated", "EventTime", "UtcTime")))
    fields: dict[str, str | None] = {}
    core_keys = {k for keys in FLAT_CORE.values() for k in keys}
    for key, value in doc.items():
        if key in core_keys or key in FLAT_DROP or key.startswith("@") or key == "Message":
            continue
        fields[FLAT_RENAMES.get(key, key)] = text_of(value)
    add_common_names(fields)
    code = _code(_first(doc, FLAT_CORE["event_code"]))
    channel = text_of(_first(doc, FLAT_CORE["channel"])) or ""
    add_event_aliases(fields, channel, code)
    return RawRecord(
        ts=ts,
        host=text_of(_first(doc, FLAT_CORE["host"])) or "",
        fields=fields,
        channel=channel,
        event_code=code,
        message=text_of(doc.get("Message")),
        key=_record_key(_first(doc, ("EventRecordID", "RecordNumber")), ts, code),
    )


def _ecs(doc: Mapping[str, Any]) -> RawRecord:
    flat: dict[str, Any] = {}
    _flatten(doc, "", flat)
    ts = parse_timestamp(flat.pop("@timestamp", None))
    fields: dict[str, str | None] = {}
    for key, value in flat.items():
        if key.startswith(ECS_EVENT_DATA):
            fields.setdefault(key.removeprefix(ECS_EVENT_DATA), text_of(value))
        fields[key] = text_of(value)
        if key in ECS_TO_SIGMA:
            fields.setdefault(ECS_TO_SIGMA[key], text_of(value))
    code = _code(_first(flat, ECS_CODE))
    return RawRecord(
        ts=ts,
        host=text_of(_first(flat, ECS_HOST)) or "",
        fields=fields,
        channel=text_of(_first(flat, ECS_CHANNEL)) or "",
        event_code=code,
        message=text_of(flat.get("message")),
        key=_record_key(_first(flat, ("winlog.record_id", "event.id")), ts, code),
    )


#: Flavours in the order they are tried: (test on the document, reader).
FLAVOURS: tuple[
    tuple[Callable[[Mapping[str, Any]], bool], Callable[[Mapping[str, Any]], RawRecord]], ...
] = (
    (lambda d: isinstance(d.get("Event"), Mapping), _windows_event),
    (lambda d: "EventID" in d and ("Hostname" in d or "Computer" in d), _flat_windows),
    (lambda d: "@timestamp" in d, _ecs),
)


class JsonLinesSource(LineSource):
    name: ClassVar[str] = "jsonl"
    description: ClassVar[str] = "JSON lines: Windows/Sysmon event JSON, Security-Datasets, ECS"

    def sniff(self, path: Path) -> bool:
        return first_line(path).startswith("{")

    def parse_line(self, line: str, path: Path) -> RawRecord:
        try:
            doc = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as e:
            raise LineError(f"not JSON: {e}") from e
        if not isinstance(doc, dict):
            raise LineError(f"a JSON {type(doc).__name__}, not an object")
        for test, reader in FLAVOURS:
            if test(doc):
                return reader(doc)
        raise LineError("unknown JSON event: no Event, EventID+Hostname or @timestamp key")
