"""A Windows event rendered as JSON (EVTX, Sysmon for Linux): System and EventData to flat fields.

The field mapping is data: System paths to Sigma names, and per-event renames that let rules
written for Sysmon read the Security log's equivalent events.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from vigil.core.clock import to_utc
from vigil.monitor.sources.base import RawRecord

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
TIME_PATH = ("TimeCreated", "#attributes", "SystemTime")

#: (channel, event id) -> extra Sigma names for fields of that event, so that rules written
#: for Sysmon's process creation (event 1) also read Security's (event 4688).
EVENT_ALIASES: dict[tuple[str, int], dict[str, str]] = {
    ("Security", 4688): {
        "NewProcessName": "Image",
        "ParentProcessName": "ParentImage",
        "NewProcessId": "ProcessId",
    },
}


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


def _dig(data: Any, path: tuple[str, ...]) -> Any:
    current: Any = data
    for step in path:
        if type(current) is not dict:
            return None
        current = current.get(step)
    return current


def _flatten(section: Any, out: dict[str, str | None]) -> None:
    """EventData or UserData into `out`; nested elements give their leaf names."""
    if type(section) is not dict:
        if section is not None:
            out.setdefault("Data", text_of(section))
        return
    for name, value in section.items():
        if type(value) is str:
            if name not in out:
                out[name] = value
        elif name == "#attributes":
            continue
        elif type(value) is dict and "#text" not in value:
            _flatten(value, out)
        elif name not in out:
            out[name] = text_of(value)


def parse_time(text: str) -> datetime:
    """EVTX SystemTime ('2026-04-20T10:00:35.646624Z') as naive UTC."""
    parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    try:
        return to_utc(parsed)
    except OverflowError as e:
        raise ValueError(f"time {text!r} is out of range") from e


def record_from_event(event: Mapping[str, Any]) -> RawRecord:
    """The `Event` object of the JSON rendering; raises KeyError/ValueError when it is not one."""
    system = event["System"]
    if type(system) is not dict:
        raise ValueError("Event/System is not an element")
    fields: dict[str, str | None] = {}
    _flatten(event.get("EventData"), fields)
    _flatten(event.get("UserData"), fields)
    for path, names in SYSTEM_FIELDS.items():
        holder = _dig(system, path)
        if type(holder) is not dict:
            continue
        for element, name in names.items():
            value = holder.get(element)
            if value is not None and name not in fields:
                fields[name] = text_of(value)
    code_text = text_of(system.get("EventID"))
    code = int(code_text) if code_text is not None and code_text.strip().isdigit() else None
    channel = text_of(system.get("Channel")) or ""
    aliases = EVENT_ALIASES.get((channel, code)) if code is not None else None
    if aliases:
        for original, alias in aliases.items():
            if original in fields:
                fields.setdefault(alias, fields[original])
    when = _dig(system, TIME_PATH)
    if not isinstance(when, str):
        raise ValueError("event has no System/TimeCreated/SystemTime")
    return RawRecord(
        ts=parse_time(when),
        host=text_of(system.get("Computer")) or "",
        fields=fields,
        channel=channel,
        event_code=code,
        key=f"{text_of(system.get('EventRecordID'))}\x1f{when}\x1f{code}",
    )
