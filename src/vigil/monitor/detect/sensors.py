"""Sensors (a host and the log source it sends): when each was last heard, and which fell silent.

Hosts whose logs were collected off them (hosts.record_hosts) are listed but never silent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa
import pyarrow.parquet as pq

from vigil.core.access import Actor, Permission
from vigil.core.calendar import Phase
from vigil.core.finding import Finding, occurrence_key
from vigil.core.i18n import _
from vigil.core.severity import Severity
from vigil.deployment import Deployment
from vigil.monitor.ingest.events import DATASET
from vigil.monitor.ingest.hosts import host_units

SILENT_RULE = "sensor-silent"
SILENT_TITLE = "Sensor silent: {host} ({source}) sent no event for {minutes} minutes"
#: A silent sensor matters most while people vote.
SILENCE_SEVERITY = {
    Phase.BEFORE: Severity.MEDIUM,
    Phase.DURING: Severity.HIGH,
    Phase.AFTER: Severity.LOW,
}
_COLUMNS = ["host", "source", "unit", "ts"]


@dataclass(frozen=True)
class Sensor:
    host: str
    source: str
    unit: str
    events: int
    first: datetime
    last: datetime
    #: The host's logs were collected off it, not sent: it has no silence to watch.
    collected: bool = False


def read_sensors(deployment: Deployment) -> list[Sensor]:
    """Every host/source pair in the lake with its event count, first/last event time, and
    whether its host's logs were collected."""
    files = deployment.lake.files(DATASET)
    if not files:
        return []
    table = pa.concat_tables([pq.read_table(f, columns=_COLUMNS) for f in files])
    grouped = table.group_by(["host", "source"]).aggregate(
        [("ts", "count"), ("ts", "min"), ("ts", "max"), ("unit", "max")]
    )
    with deployment.store.reader() as session:
        placed = host_units(session)
    out = []
    for row in grouped.to_pylist():
        host = str(row["host"])
        place = placed.get(host)
        out.append(
            Sensor(
                host,
                str(row["source"]),
                place.unit if place else str(row["unit_max"]),
                int(row["ts_count"]),
                row["ts_min"],
                row["ts_max"],
                place.collected if place else False,
            )
        )
    return sorted(out, key=lambda s: (s.unit, s.host, s.source))


def list_sensors(deployment: Deployment, actor: Actor) -> list[Sensor]:
    actor.require(Permission.VIEW)
    return [s for s in read_sensors(deployment) if actor.sees(s.unit)]


def silence_findings(deployment: Deployment, now: datetime | None = None) -> list[Finding]:
    """A finding for each live sensor silent longer than the current phase allows.

    The silence is identified by the time of the last event, so checking again while it lasts
    changes nothing, and a sensor that speaks and then falls silent again is a new finding.
    """
    now = now or deployment.now()
    policy = deployment.policy(now)
    limit = policy.silence_minutes
    out: list[Finding] = []
    for sensor in read_sensors(deployment):
        if sensor.collected:
            continue
        silent = int((now - sensor.last).total_seconds() // 60)
        if silent <= limit:
            continue
        words = {"host": sensor.host, "source": sensor.source, "minutes": silent}
        out.append(
            Finding(
                capability="monitor",
                rule=SILENT_RULE,
                severity=SILENCE_SEVERITY[policy.phase],
                unit=sensor.unit,
                subject=sensor.host,
                title=SILENT_TITLE.format(**words),
                title_vi=_(SILENT_TITLE, "vi").format(**words),
                evidence={
                    "source": sensor.source,
                    "last_event": sensor.last.isoformat(),
                    "silent_minutes": silent,
                    "allowed_minutes": limit,
                    "phase": str(policy.phase),
                    "events": sensor.events,
                },
                observed_at=now,
                occurrences=(
                    occurrence_key(
                        SILENT_RULE, sensor.host, sensor.source, sensor.last.isoformat()
                    ),
                ),
                scope=f"{sensor.source}:{sensor.last.isoformat()}",
            )
        )
    return out
