"""Detections per Sigma rule from the recorded findings (docs/monitor-detections.md)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.core.access import Actor, Permission
from vigil.monitor.detect.sensors import SILENT_RULE
from vigil.monitor.models import MonitorRule
from vigil.store.models import FindingRow


@dataclass(frozen=True)
class RuleDetections:
    rule: str
    title: str
    level: str
    hosts: int
    events: int


def detection_counts(session: Session, actor: Actor) -> list[RuleDetections]:
    """Matched events (distinct occurrences) and hosts per rule, most events first."""
    actor.require(Permission.VIEW)
    rows = session.execute(
        select(
            FindingRow.rule,
            func.count(func.distinct(FindingRow.subject)),
            func.sum(FindingRow.count),
            MonitorRule.title,
            MonitorRule.level,
        )
        .outerjoin(MonitorRule, MonitorRule.id == FindingRow.rule)
        .where(
            FindingRow.capability == "monitor",
            FindingRow.rule != SILENT_RULE,
            FindingRow.unit.in_(sorted(actor.scope)),
        )
        .group_by(FindingRow.rule, MonitorRule.title, MonitorRule.level)
    ).all()
    out = [
        RuleDetections(rule, title or rule, level or "", int(hosts), int(events or 0))
        for rule, hosts, events, title, level in rows
    ]
    return sorted(out, key=lambda r: (-r.events, r.title, r.rule))


def detections_markdown(rows: list[RuleDetections]) -> str:
    lines = [
        "| rule | title | level | hosts | events |",
        "|---|---|---|---:|---:|",
    ]
    for r in rows:
        title = r.title.replace("|", "\\|")
        lines.append(f"| `{r.rule}` | {title} | {r.level} | {r.hosts} | {r.events} |")
    lines.append("")
    lines.append(f"{len(rows)} rules fired on {sum(r.events for r in rows)} events in total.")
    return "\n".join(lines)
