"""What the monitor's pages and commands show: event pages, detections with their events, sensor
health. Each function checks the reader's permission and units itself."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.core.access import Actor, Permission, require_found
from vigil.core.personal import mask_evidence
from vigil.deployment import Deployment
from vigil.monitor.detect.sensors import SILENT_RULE, Sensor, list_sensors
from vigil.monitor.detect.sigma.findings import attack_summary
from vigil.monitor.models import MonitorRule
from vigil.monitor.review.search import FieldFilter, search_events
from vigil.store.models import FindingRow

CAPABILITY = "monitor"
#: Columns every event has; the rest are the source's own fields.
EVENT_CORE = ("event_id", "ts", "host", "unit", "source", "channel", "event_code")
#: Kinds of monitor findings: told apart by their rule name, Sigma ones by the rule table; the
#: rest ("other") come from detectors outside the rule sets, such as the demo's.
KINDS = ("sigma", "yara", "ioc", "sensor", "other")


def event_fields(row: dict[str, Any]) -> dict[str, Any]:
    """An event's own fields (what its source sent), without the core columns."""
    return {k: v for k, v in row.items() if k not in EVENT_CORE}


@dataclass(frozen=True)
class EventPage:
    items: list[dict[str, Any]]
    page: int
    size: int
    has_next: bool


def event_page(
    deployment: Deployment,
    actor: Actor,
    *,
    host: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    filters: list[FieldFilter] | None = None,
    page: int = 1,
    size: int = 50,
) -> EventPage:
    """One page of the event search, newest first; one event more is read to know if a next
    page exists."""
    page = max(page, 1)
    rows = search_events(
        deployment,
        actor,
        host=host,
        since=since,
        until=until,
        filters=filters,
        limit=page * size + 1,
    )
    start = (page - 1) * size
    return EventPage(rows[start : start + size], page, size, len(rows) > start + size)


def kind_of(rule: str, sigma_rules: frozenset[str] | set[str]) -> str:
    if rule == SILENT_RULE:
        return "sensor"
    if rule.startswith("ioc:"):
        return "ioc"
    if rule.startswith("yara:"):
        return "yara"
    return "sigma" if rule in sigma_rules else "other"


def detection_list(
    session: Session, actor: Actor, *, kind: str | None = None, limit: int = 200
) -> list[tuple[FindingRow, str]]:
    """The monitor's findings in the reader's units with their kind, newest first, of one kind
    or all."""
    actor.require(Permission.VIEW)
    sigma_ids = select(MonitorRule.id)
    q = (
        select(FindingRow)
        .where(FindingRow.capability == CAPABILITY, FindingRow.unit.in_(sorted(actor.scope)))
        .order_by(FindingRow.last_seen.desc(), FindingRow.id.desc())
    )
    if kind == "sensor":
        q = q.where(FindingRow.rule == SILENT_RULE)
    elif kind == "ioc":
        q = q.where(FindingRow.rule.startswith("ioc:"))
    elif kind == "yara":
        q = q.where(FindingRow.rule.startswith("yara:"))
    elif kind == "sigma":
        q = q.where(FindingRow.rule.in_(sigma_ids))
    elif kind == "other":
        q = q.where(
            FindingRow.rule != SILENT_RULE,
            ~FindingRow.rule.startswith("ioc:"),
            ~FindingRow.rule.startswith("yara:"),
            FindingRow.rule.not_in(sigma_ids),
        )
    rows = list(session.scalars(q.limit(limit)))
    known = set(session.scalars(sigma_ids.where(MonitorRule.id.in_({r.rule for r in rows}))))
    return [(row, kind_of(row.rule, known)) for row in rows]


@dataclass(frozen=True)
class RuleMeta:
    """What a detection's rule says about itself, from the rule table or the evidence."""

    title: str
    level: str
    ruleset: str = ""
    tactics: list[str] = field(default_factory=list)
    techniques: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DetectionDetail:
    finding: FindingRow
    kind: str
    rule: RuleMeta
    #: The matching events the evidence keeps (a few per finding; see sigma.findings).
    events: list[dict[str, Any]]
    #: Events the rule matched in all, when the evidence keeps only some.
    matched: int
    evidence: dict[str, Any]


def _rule_meta(session: Session, row: FindingRow, evidence: dict[str, Any]) -> RuleMeta:
    stored = session.get(MonitorRule, row.rule)
    if stored is not None:
        attack = attack_summary(stored.tags)
        return RuleMeta(
            stored.title,
            stored.level,
            stored.ruleset,
            attack["tactics"],
            attack["techniques"],
            list(stored.tags),
        )
    tags = [str(t) for t in evidence.get("tags") or []]
    if not tags and isinstance(evidence.get("indicator"), dict):
        tags = [str(t) for t in evidence["indicator"].get("tags") or []]
    attack = attack_summary(tags)
    level = str(evidence.get("level") or "")
    return RuleMeta(row.title, level, "", attack["tactics"], attack["techniques"], tags)


def _event_of(saved: dict[str, Any]) -> dict[str, Any]:
    """An event as evidence keeps it, with its time read back from JSON text."""
    event = dict(saved)
    ts = event.get("ts")
    if isinstance(ts, str):
        with suppress(ValueError):  # else shown as the text it is
            event["ts"] = datetime.fromisoformat(ts)
    return event


def detection_detail(session: Session, actor: Actor, finding_id: int) -> DetectionDetail:
    """One monitor finding with its matching events and its rule's metadata."""
    actor.require(Permission.VIEW)
    row = session.get(FindingRow, finding_id)
    row = require_found(
        actor,
        row if row is None or row.capability == CAPABILITY else None,
        f"no monitor detection {finding_id}",
    )
    evidence = mask_evidence(row.evidence)
    raw_events = evidence.get("events")
    if isinstance(raw_events, list):
        events = [_event_of(e) for e in raw_events if isinstance(e, dict)]
    elif isinstance(evidence.get("event"), dict):  # an indicator seen in one event
        events = [_event_of(evidence["event"])]
    else:
        events = []
    matched = evidence.get("matched")
    return DetectionDetail(
        row,
        kind_of(row.rule, {row.rule} if session.get(MonitorRule, row.rule) else set()),
        _rule_meta(session, row, evidence),
        events,
        matched if isinstance(matched, int) else len(events),
        evidence,
    )


@dataclass(frozen=True)
class SensorHealth:
    sensor: Sensor
    #: Whole minutes since the sensor's last event.
    quiet_minutes: int
    #: Never for a collected host's sensor: it sends nothing to fall silent on.
    silent: bool


def sensor_health(
    deployment: Deployment, actor: Actor, now: datetime | None = None
) -> tuple[int, list[SensorHealth]]:
    """The current phase's silence limit, and each sensor the reader sees by unit: silent first,
    collected last."""
    now = now or deployment.now()
    limit = deployment.policy(now).silence_minutes
    out = []
    for sensor in list_sensors(deployment, actor):
        quiet = int((now - sensor.last).total_seconds() // 60)
        out.append(SensorHealth(sensor, quiet, quiet > limit and not sensor.collected))
    out.sort(
        key=lambda h: (
            h.sensor.unit,
            not h.silent,
            h.sensor.collected,
            h.sensor.host,
            h.sensor.source,
        )
    )
    return limit, out
