"""Which unit each host belongs to. Hosts nobody has placed go to the province (root) unit."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.core.access import Actor, Permission
from vigil.core.clock import utcnow
from vigil.core.units import UnitTree
from vigil.monitor.models import MonitorHost
from vigil.store.audit import audit

#: How a host's unit is known.
FROM_INGEST = "ingest"  # the file was ingested with --unit
MANUAL = "manual"  # an officer set it
UNKNOWN = "unknown"  # nobody did: the root unit, listed until someone places it


@dataclass(frozen=True)
class HostPlacement:
    host: str
    unit: str
    source: str


def host_units(session: Session) -> dict[str, HostPlacement]:
    return {
        h.host: HostPlacement(h.host, h.unit, h.source)
        for h in session.scalars(select(MonitorHost))
    }


def record_hosts(
    session: Session,
    actor: Actor,
    units: UnitTree,
    hosts: Iterable[str],
    unit: str | None,
) -> list[HostPlacement]:
    """Place hosts seen by an ingest; returns the hosts that are new or still unknown.

    A host already placed keeps its unit; `unit` (the ingest's --unit) places new hosts and
    hosts that were only parked at the root.
    """
    known = {h.host: h for h in session.scalars(select(MonitorHost))}
    changed: list[HostPlacement] = []
    for host in sorted(set(hosts)):
        row = known.get(host)
        if row is not None and (row.source != UNKNOWN or unit is None):
            continue
        target, source = (unit, FROM_INGEST) if unit else (units.root.code, UNKNOWN)
        if row is None:
            row = MonitorHost(host=host, unit=target, source=source, updated_at=utcnow())
            session.add(row)
        else:
            row.unit, row.source, row.updated_at = target, source, utcnow()
        changed.append(HostPlacement(host, target, source))
    if changed:
        session.flush()
        audit(
            session,
            actor,
            "monitor.hosts.record",
            "monitor_hosts",
            {"hosts": {p.host: p.unit for p in changed}, "unit": unit},
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
    return HostPlacement(host, unit, MANUAL)


def list_hosts(session: Session, actor: Actor, only_unknown: bool = False) -> list[HostPlacement]:
    actor.require(Permission.VIEW)
    q = select(MonitorHost).order_by(MonitorHost.unit, MonitorHost.host)
    if only_unknown:
        q = q.where(MonitorHost.source == UNKNOWN)
    return [
        HostPlacement(h.host, h.unit, h.source) for h in session.scalars(q) if actor.sees(h.unit)
    ]
