"""A Windows event rendered as JSON (EVTX, Sysmon for Linux): System and EventData to flat fields.

The field mapping is data: System paths to Sigma names, and per-event renames that let rules
written for Sysmon read the Security log's equivalent events. A field whose name holds spaces
(Windows Defender writes `Threat Name`, `New Value`) is also given its common name, the spaces
removed, which is how Sigma rules spell it; the raw name stays searchable beside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from vigil.core.clock import to_utc
from vigil.monitor.ingest.sources.base import RawRecord

#: Sigma field names of Event.System, by the element that holds them (attributes of an element
#: are under "#attributes"); every EventData field keeps its own name.
SYSTEM_FIELDS: dict[tuple[str, ...], dict[str, str]] = {
    (): {
        "Version": "Version",
        "Level": "Level",
        "Task": "Task",
        "Opcode": "Opcode",
        "Keywords": "Keywords",
        "EventRecordID": "EventRecordID",
    },
    ("Provider", "#attributes"): {
        "Name": "Provider_Name",
        "Guid": "Provider_Guid",
        "EventSourceName": "EventSourceName",
    },
    ("Execution", "#attributes"): {
        "ProcessID": "ExecutionProcessID",
        "ThreadID": "ExecutionThreadID",
    },
    ("Security", "#attributes"): {"UserID": "SecurityUserID"},
    ("Correlation", "#attributes"): {"ActivityID": "ActivityID"},
}
#: SYSTEM_FIELDS as the record reader walks it: System's own elements, and the elements whose
#: attributes hold fields.
_SYSTEM_PLAIN = tuple(SYSTEM_FIELDS[()].items())
_SYSTEM_ATTRIBUTES = tuple(
    (path[0], tuple(names.items()))
    for path, names in SYSTEM_FIELDS.items()
    if path[1:] == ("#attributes",)
)
if len(_SYSTEM_ATTRIBUTES) + 1 != len(SYSTEM_FIELDS):  # pragma: no cover (a mapping typo)
    raise ValueError("SYSTEM_FIELDS paths must be () or (element, '#attributes')")

#: (channel, event id) -> extra Sigma names for fields of that event, so that rules written
#: for Sysmon's process creation (event 1) also read Security's (event 4688). The names follow
#: pySigma's `windows-audit` pipeline (tests/test_monitor_security_mapping.py compares them
#: field by field); `NewProcessId` -> `ProcessId` is ours (that pipeline maps no process id).
EVENT_ALIASES: dict[tuple[str, int], dict[str, str]] = {
    ("Security", 4688): {
        "NewProcessName": "Image",
        "ParentProcessName": "ParentImage",
        "SubjectLogonId": "LogonId",
        "NewProcessId": "ProcessId",
    },
    # A service installed over RPC: the installing client's process is System/Execution's
    # ProcessID, which SigmaHQ's "Service Installed By Unusual Client" reads as ProcessId.
    ("System", 7045): {"ExecutionProcessID": "ProcessId"},
}


def add_event_aliases(fields: dict[str, str | None], channel: str, code: int | None) -> None:
    """The extra Sigma names of EVENT_ALIASES for this event (a field already so named stays)."""
    aliases = EVENT_ALIASES.get((channel, code)) if code is not None else None
    if aliases:
        for original, alias in aliases.items():
            if original in fields:
                fields.setdefault(alias, fields[original])


def common_name(name: str) -> str:
    """A field's name as Sigma rules spell it: `Threat Name` -> `ThreatName`."""
    return "".join(name.split())


def add_common_names(fields: dict[str, str | None]) -> None:
    """Give each field whose name holds spaces its common name too (the first field that
    has a common name keeps it: a field already called so is never overwritten)."""
    if " " not in "".join(fields):  # the usual event: one scan of its names, in C
        return
    for name in [name for name in fields if " " in name]:
        fields.setdefault(common_name(name), fields[name])


def text_of(value: Any) -> str | None:
    """A JSON value as the text a Sigma rule compares with."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if value is None:
        return None
    if kind is int:
        return str(value)
    if kind is bool:
        return "true" if value else "false"
    if isinstance(value, dict):
        if "#text" in value:
            return text_of(value["#text"])
        inner = {k: v for k, v in value.items() if k != "#attributes"}
        return ", ".join(t for v in inner.values() if (t := text_of(v)) is not None) or None
    if isinstance(value, list):
        return ", ".join(t for v in value if (t := text_of(v)) is not None)
    return str(value)


def _flatten(section: Any, out: dict[str, str | None]) -> None:
    """EventData or UserData into `out`; nested elements give their leaf names, first one wins."""
    if type(section) is not dict:
        if section is not None:
            out.setdefault("Data", text_of(section))
        return
    for name, value in section.items():
        kind = type(value)
        if kind is str:
            if name not in out:
                out[name] = value
        elif name == "#attributes":
            continue
        elif kind is dict and "#text" not in value:
            _flatten(value, out)
        elif name not in out:
            out[name] = text_of(value)


def parse_time(text: str) -> datetime:
    """EVTX SystemTime ('2026-04-20T10:00:35.646624Z') as naive UTC."""
    if text[-1:] == "Z":
        try:  # the usual spelling: already UTC, read without a time zone object
            return datetime.fromisoformat(text[:-1])
        except ValueError:
            pass
    parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    try:
        return to_utc(parsed)
    except OverflowError as e:
        raise ValueError(f"time {text!r} is out of range") from e


def record_from_event(event: Mapping[str, Any]) -> RawRecord:
    """The `Event` object of the JSON rendering; raises KeyError/ValueError when it is not one.

    The hot path of EVTX ingest (ten thousand calls a second per core): System is read with
    one pass over its elements rather than a lookup per known path.
    """
    system = event["System"]
    if type(system) is not dict:
        raise ValueError("Event/System is not an element")
    fields: dict[str, str | None] = {}
    data = event.get("EventData")
    if data is not None:
        _flatten(data, fields)
    data = event.get("UserData")
    if data is not None:
        _flatten(data, fields)
    if fields:
        add_common_names(fields)
    for element, name in _SYSTEM_PLAIN:
        value = system.get(element)
        if value is not None and name not in fields:
            kind = type(value)
            fields[name] = value if kind is str else str(value) if kind is int else text_of(value)
    for element, names in _SYSTEM_ATTRIBUTES:
        holder = system.get(element)
        attributes = holder.get("#attributes") if type(holder) is dict else None
        if type(attributes) is not dict:
            continue
        for attribute, name in names:
            value = attributes.get(attribute)
            if value is not None and name not in fields:
                kind = type(value)
                fields[name] = (
                    value if kind is str else str(value) if kind is int else text_of(value)
                )
    code_value = system.get("EventID")
    if type(code_value) is int:
        code: int | None = code_value
        code_text: str | None = str(code_value)
    else:
        code_text = text_of(code_value)
        code = int(code_text) if code_text is not None and code_text.strip().isdigit() else None
    channel = system.get("Channel")
    if type(channel) is not str:
        channel = text_of(channel) or ""
    add_event_aliases(fields, channel, code)
    timed = system.get("TimeCreated")
    when = timed.get("#attributes") if type(timed) is dict else None
    when = when.get("SystemTime") if type(when) is dict else None
    if type(when) is not str:
        raise ValueError("event has no System/TimeCreated/SystemTime")
    host = system.get("Computer")
    record_id = system.get("EventRecordID")
    return RawRecord(
        ts=parse_time(when),
        host=host if type(host) is str else text_of(host) or "",
        fields=fields,
        channel=channel,
        event_code=code,
        key=f"{record_id if type(record_id) is int else text_of(record_id)}\x1f{when}\x1f{code}",
    )
