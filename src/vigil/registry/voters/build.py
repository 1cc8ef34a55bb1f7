"""Build a commune's voter list, store it as the commune's next version, and diff it against
the version before: who was added and who removed, each with the reason the registry gives.

A business rule: only a data officer (MANAGE_DATA) of the commune builds its list; every build
is audited (`registry.voters.build`). The entries are kept as the registry read that day, so an
old list still shows who was on it after the registry has changed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

import pyarrow.compute as pc
from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from vigil.core.access import Actor, Permission
from vigil.core.errors import NotFoundError
from vigil.core.units import UnitKind
from vigil.deployment import Deployment
from vigil.lake.engine import LakeEngine
from vigil.registry.voters.eligibility import (
    PollingAreas,
    born_by,
    register_sources,
    standing,
    voting_day,
)
from vigil.registry.voters.models import VoterChange, VoterEntry, VoterList
from vigil.store.audit import audit

#: A voter on both lists whose polling area changed is "moved" (reason area_changed).
ADDED, REMOVED, MOVED = "added", "removed", "moved"
# Core inserts: the ORM's bulk path costs about as much again per row (measured).
_ENTRIES = cast(Table, VoterEntry.__table__)
_CHANGES = cast(Table, VoterChange.__table__)
_ENTRY_FIELDS = ("citizen_id", "full_name", "sex", "birth_date", "village", "household_id")


@dataclass
class BuiltList:
    """What one build made: the stored list and what was left off, by reason."""

    list_id: int
    commune: str
    version: int
    voting_day: date
    voters: int
    added: int
    removed: int
    left_off: Counter[str] = field(default_factory=Counter)
    #: Polling area -> voters.
    areas: Counter[str] = field(default_factory=Counter)
    changes: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "list_id": self.list_id,
            "commune": self.commune,
            "version": self.version,
            "voting_day": self.voting_day.isoformat(),
            "voters": self.voters,
            "added": self.added,
            "removed": self.removed,
            "left_off": dict(sorted(self.left_off.items())),
            "areas": dict(sorted(self.areas.items())),
            "changes": dict(sorted(self.changes.items())),
        }


def latest_lists(session: Session, communes: list[str]) -> list[VoterList]:
    """The latest list of each of `communes` that has one, in one query."""
    if not communes:
        return []
    newest = (
        select(VoterList.commune, func.max(VoterList.version).label("version"))
        .where(VoterList.commune.in_(communes))
        .group_by(VoterList.commune)
        .subquery()
    )
    query = select(VoterList).join(
        newest, (VoterList.commune == newest.c.commune) & (VoterList.version == newest.c.version)
    )
    return list(session.scalars(query.order_by(VoterList.commune)))


def latest_list(session: Session, commune: str) -> VoterList | None:
    return session.scalar(
        select(VoterList).where(VoterList.commune == commune).order_by(VoterList.version.desc())
    )


def _removal_reasons(engine: LakeEngine, gone: list[str], commune: str) -> dict[str, str]:
    """Why each person of the previous list is not on the new one, from their record now."""
    if not gone:
        return {}
    engine.register_arrow("voter_gone", _ids_table(gone))
    rows = engine.query(
        """
        SELECT g.person_id,
          CASE WHEN p.person_id IS NULL THEN 'delisted'
               WHEN p.death_date IS NOT NULL THEN 'died'
               WHEN EXISTS (SELECT 1 FROM voter_deaths AS d WHERE d.citizen_id = p.citizen_id)
                 THEN 'death_record'
               WHEN p.commune <> $commune THEN 'moved_away'
               ELSE 'delisted' END AS reason
        FROM voter_gone AS g
        LEFT JOIN (SELECT *, row_number() OVER (PARTITION BY person_id ORDER BY death_date
                     NULLS LAST) AS k FROM voter_persons) AS p
          ON p.person_id = g.person_id AND p.k = 1
        """,
        {"commune": commune},
    ).to_pylist()
    return {str(r["person_id"]): str(r["reason"]) for r in rows}


def _addition_reasons(
    engine: LakeEngine, new: list[dict[str, Any]], previous: VoterList | None, commune: str
) -> dict[str, str]:
    """came_of_age (too young for the previous list), moved_in (a move into the commune since
    the previous list), else listed (a record the previous list did not have)."""
    if previous is None:
        return {}
    ids = [str(r["person_id"]) for r in new]
    engine.register_arrow("voter_new", _ids_table(ids))
    moved = {
        str(r["person_id"])
        for r in engine.query(
            """
            SELECT DISTINCT m.person_id FROM voter_moves AS m
            JOIN voter_new AS n ON n.person_id = m.person_id
            WHERE m.commune = $commune AND m.moved_on >= $since
            """,
            {"commune": commune, "since": previous.built_at.date()},
        ).to_pylist()
    }
    reasons = {}
    for r in new:
        pid = str(r["person_id"])
        if r["birth_date"] is not None and r["birth_date"] > previous.born_by:
            reasons[pid] = "came_of_age"
        elif pid in moved:
            reasons[pid] = "moved_in"
        else:
            reasons[pid] = "listed"
    return reasons


def _ids_table(ids: list[str]) -> Any:
    import pyarrow as pa

    return pa.table({"person_id": pa.array(ids, pa.string())})


def _check_commune(deployment: Deployment, actor: Actor, commune: str) -> None:
    actor.require(Permission.MANAGE_DATA)
    actor.require_unit(commune)
    if commune not in deployment.units or deployment.units.get(commune).kind != UnitKind.COMMUNE:
        raise NotFoundError(f"no commune {commune!r}")


def build_voter_lists(
    session: Session,
    deployment: Deployment,
    actor: Actor,
    communes: list[str],
    areas: PollingAreas | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[BuiltList]:
    """Build, store and audit each commune's next voter list (one pass over the registry);
    each diff is against that commune's latest list."""
    for commune in communes:
        _check_commune(deployment, actor, commune)
    engine = register_sources(deployment)
    cutoff = born_by(voting_day(deployment))
    table = standing(engine, communes, cutoff)
    built = []
    for commune in communes:
        if progress:
            progress(commune)
        rows = table.filter(pc.equal(table.column("commune"), commune)).to_pylist()
        built.append(_store_list(session, deployment, actor, engine, commune, rows, areas))
    return built


def build_voter_list(
    session: Session,
    deployment: Deployment,
    actor: Actor,
    commune: str,
    areas: PollingAreas | None = None,
) -> BuiltList:
    """Build, store and audit `commune`'s next voter list; the diff is against its latest."""
    [built] = build_voter_lists(session, deployment, actor, [commune], areas)
    return built


def _previous_entries(session: Session, previous: VoterList | None) -> dict[str, str]:
    """person_id -> polling area of the previous list."""
    if previous is None:
        return {}
    query = select(VoterEntry.person_id, VoterEntry.polling_area).where(
        VoterEntry.list_id == previous.id
    )
    return {str(pid): str(area) for pid, area in session.execute(query)}


def _store_list(
    session: Session, deployment: Deployment, actor: Actor, engine: LakeEngine, commune: str,
    standing_rows: list[dict[str, Any]], areas: PollingAreas | None,
) -> BuiltList:  # fmt: skip
    areas = areas or PollingAreas()
    day = voting_day(deployment)
    voters = [r for r in standing_rows if r["left_off"] is None]
    previous = latest_list(session, commune)
    before = _previous_entries(session, previous)
    now_ids = {str(r["person_id"]) for r in voters}
    new = [r for r in voters if str(r["person_id"]) not in before] if previous else []
    gone = sorted(set(before) - now_ids)
    added_why = _addition_reasons(engine, new, previous, commune)
    removed_why = _removal_reasons(engine, gone, commune)
    row = VoterList(
        commune=commune, version=(previous.version if previous else 0) + 1, voting_day=day,
        born_by=born_by(day), built_at=deployment.now(), built_by=actor.username,
        areas_rule=areas.rule, voters=len(voters), added=len(new), removed=len(gone),
        previous_id=previous.id if previous else None,
    )  # fmt: skip
    session.add(row)
    session.flush()
    entries = [
        {"list_id": row.id, "person_id": str(r["person_id"]),
         "polling_area": areas.area(commune, r["village"]),
         **{k: r[k] for k in _ENTRY_FIELDS}}
        for r in voters
    ]  # fmt: skip
    if entries:
        session.execute(insert(_ENTRIES), entries)
    area_of = {e["person_id"]: e["polling_area"] for e in entries}
    changes = [
        {"list_id": row.id, "person_id": pid, "change": ADDED, "reason": why,
         "polling_area": area_of[pid]}
        for pid, why in sorted(added_why.items())
    ] + [
        {"list_id": row.id, "person_id": pid, "change": REMOVED, "reason": removed_why[pid],
         "polling_area": before[pid]}
        for pid in gone
    ] + [
        {"list_id": row.id, "person_id": pid, "change": MOVED, "reason": "area_changed",
         "polling_area": area_of[pid]}
        for pid in sorted(set(before) & set(area_of)) if before[pid] != area_of[pid]
    ]  # fmt: skip
    if changes:
        session.execute(insert(_CHANGES), changes)
    built = BuiltList(
        row.id, commune, row.version, day, len(voters), len(new), len(gone),
        Counter(str(r["left_off"]) for r in standing_rows if r["left_off"] is not None),
        Counter(e["polling_area"] for e in entries),
        Counter(f"{c['change']}:{c['reason']}" for c in changes),
    )  # fmt: skip
    audit(session, actor, "registry.voters.build", f"voter-list:{row.id}",
          {k: v for k, v in built.as_dict().items() if k != "areas"}, commune)  # fmt: skip
    return built


def communes(deployment: Deployment) -> list[str]:
    """The deployment's communes, in code order."""
    return sorted(u.code for u in deployment.units.of_kind(UnitKind.COMMUNE))
