"""Which unit each host belongs to, and whether its logs come live or were collected off it.

Hosts nobody has placed go to the province (root) unit. A host known only from collected logs
(a forensic copy, replayed samples) is marked collected: it sends nothing, so it cannot fall
silent. The first live ingest that sees it makes it live for good; an officer may mark it either
way by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.core.access import Actor, Permission, require_found
from vigil.core.clock import utcnow
from vigil.core.units import UnitTree
from vigil.monitor.models import MonitorHost
from vigil.store.audit import audit

#: How a host's unit is known.
FROM_INGEST = "ingest"  # the file was ingested with --unit
MANUAL = "manual"  # an officer set it
UNKNOWN = "unknown"  # nobody did: the root unit, listed until someone places it
#: How a host's logs reach us (shown beside it).
LIVE = "live"
COLLECTED = "collected"


@dataclass(frozen=True)
class HostPlacement:
    host: str
    unit: str
    source: str
    #: Only collected logs show this host: it is no sensor that could fall silent.
    collected: bool = False

    @property
    def feed(self) -> str:
        return COLLECTED if self.collected else LIVE


def _placement(row: MonitorHost) -> HostPlacement:
    return HostPlacement(row.host, row.unit, row.source, bool(row.collected))


def host_units(session: Session) -> dict[str, HostPlacement]:
    return {h.host: _placement(h) for h in session.scalars(select(MonitorHost))}


def record_hosts(
    session: Session,
    actor: Actor,
    units: UnitTree,
    hosts: Iterable[str],
    unit: str | None,
    collected: bool = False,
) -> list[HostPlacement]:
    """Place hosts seen by an ingest; returns the hosts that are new or still unknown.

    A host already placed keeps its unit; `unit` (the ingest's --unit) places new hosts and
    hosts that were only parked at the root. `collected` says the logs were copied off the
    hosts: a host no live ingest has seen is marked collected, and a live ingest marks every
    host it sees live, whatever it was.
    """
    known = {h.host: h for h in session.scalars(select(MonitorHost))}
    changed: list[HostPlacement] = []
    marked: dict[str, str] = {}
    for host in sorted(set(hosts)):
        row = known.get(host)
        place = row is None or (row.source == UNKNOWN and unit is not None)
        target, source = (unit, FROM_INGEST) if unit else (units.root.code, UNKNOWN)
        if row is None:
            row = MonitorHost(host=host, unit=target, source=source, updated_at=utcnow())
            session.add(row)
        elif place:
            row.unit, row.source, row.updated_at = target, source, utcnow()
        # A live ingest is proof of a live sensor; a collected one only speaks for a host
        # that no live ingest (and no officer) has vouched for yet.
        mark = False if not collected else (row.collected is not False)
        if row.collected != mark:
            row.collected, row.updated_at = mark, utcnow()
            marked[host] = COLLECTED if mark else LIVE
        if place:
            changed.append(_placement(row))
    if changed or marked:
        session.flush()
        audit(
            session,
            actor,
            "monitor.hosts.record",
            "monitor_hosts",
            {
                "hosts": {p.host: p.unit for p in changed},
                "unit": unit,
                "collected": collected,
                "marked": marked,
            },
        )
    return changed


def set_host_unit(
    session: Session, actor: Actor, units: UnitTree, host: str, unit: str
) -> HostPlacement:
    """An officer places a host in a unit."""
    actor.require(Permission.ANALYSE)
    units.get(unit)
    actor.require_unit(unit)
    row = session.get(MonitorHost, host)
    before = row.unit if row is not None else None
    if row is None:
        row = MonitorHost(host=host, unit=unit, source=MANUAL, updated_at=utcnow())
        session.add(row)
    else:
        row.unit, row.source, row.updated_at = unit, MANUAL, utcnow()
    session.flush()
    audit(session, actor, "monitor.hosts.set", f"host:{host}", {"from": before, "to": unit}, unit)
    return _placement(row)


def mark_host(session: Session, actor: Actor, host: str, collected: bool) -> HostPlacement:
    """An officer says whether a host's logs were collected off it or come from a live sensor.

    Ingests keep to the mark until a live ingest sees the host, which makes it live again.
    """
    actor.require(Permission.ANALYSE)
    row = require_found(
        actor,
        session.get(MonitorHost, host),
        f"unknown host {host!r}: ingest its logs or place it in a unit first",
    )
    before = None if row.collected is None else (COLLECTED if row.collected else LIVE)
    row.collected, row.updated_at = collected, utcnow()
    session.flush()
    after = COLLECTED if collected else LIVE
    detail = {"from": before, "to": after}
    audit(session, actor, "monitor.hosts.mark", f"host:{host}", detail, row.unit)
    return _placement(row)


def list_hosts(session: Session, actor: Actor, only_unknown: bool = False) -> list[HostPlacement]:
    actor.require(Permission.VIEW)
    q = select(MonitorHost).order_by(MonitorHost.unit, MonitorHost.host)
    if only_unknown:
        q = q.where(MonitorHost.source == UNKNOWN)
    return [_placement(h) for h in session.scalars(q) if actor.sees(h.unit)]
