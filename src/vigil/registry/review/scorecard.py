"""A commune's four scores, "correct, sufficient, clean, living", and its household coverage.

Each score is the share of the commune's living persons that no open finding of that word
names: correct (citizen ID, dates, name, units), sufficient (required fields), clean (a person
in a proposed duplicate an officer has not rejected, or sharing an ID), living (a death record
exists). An accepted duplicate stays counted until the register removes the record; a rejected
one no longer is. Household coverage is the share of the commune's households marked reviewed.
Every view of the scores records the day's value, which is the trend.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.core.access import Actor, Permission
from vigil.core.clock import local_day
from vigil.core.finding import OPEN_STATUSES
from vigil.core.units import UnitKind
from vigil.deployment import Deployment
from vigil.registry.datasets import HOUSEHOLDS, PERSONS
from vigil.registry.models import RegistryHouseholdReview, RegistryPairDecision, RegistryScore
from vigil.registry.rules.catalog import load_catalog
from vigil.registry.rules.clean import PAIR_SEPARATOR
from vigil.store.models import FindingRow

WORDS = ("correct", "sufficient", "clean", "living")


@dataclass
class CommuneScore:
    commune: str
    persons: int
    scores: dict[str, float]
    failing: dict[str, int]
    households: int = 0
    reviewed: int = 0
    #: (village, share of its persons named by any finding), worst first.
    worst_villages: list[tuple[str, float]] = field(default_factory=list)
    trend: list[tuple[date, dict[str, float]]] = field(default_factory=list)

    @property
    def coverage(self) -> float:
        return self.reviewed / self.households if self.households else 1.0


def _counts(dep: Deployment, dataset: str, column: str, where: str) -> dict[str, int]:
    lake = dep.lake
    if not lake.files(dataset):
        return {}
    rows = lake.query(
        f"SELECT {column} AS k, count(*) AS n FROM {dataset} WHERE {where} GROUP BY {column}",
        datasets=[dataset],
    ).to_pylist()
    return {str(r["k"]): int(r["n"]) for r in rows if r["k"] is not None}


def _failing_persons(session: Session, communes: set[str]) -> dict[str, dict[str, set[str]]]:
    """commune -> word -> ids of persons named by an open finding of that word."""
    words = {r.name: r.word for r in load_catalog().rules}
    rejected = {
        PAIR_SEPARATOR.join(sorted((d.left, d.right)))
        for d in session.scalars(
            select(RegistryPairDecision).where(RegistryPairDecision.decision == "rejected")
        )
    }
    rows = session.execute(
        select(FindingRow.unit, FindingRow.rule, FindingRow.subject).where(
            FindingRow.capability == "registry",
            FindingRow.unit.in_(communes),
            FindingRow.status.in_([s.value for s in OPEN_STATUSES]),
        )
    )
    out: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for unit, rule, subject in rows:
        word = words.get(rule)
        if word not in WORDS or subject in rejected:
            continue
        out[unit][word].update(subject.split(PAIR_SEPARATOR))
    return out


def _villages(dep: Deployment, ids: set[str]) -> dict[str, str]:
    if not ids or not dep.lake.files(PERSONS):
        return {}
    dep.lake.engine.register_arrow("registry_failing", pa.table({"person_id": sorted(ids)}))
    rows = dep.lake.query(
        "SELECT p.person_id, p.village FROM population_persons AS p "
        "JOIN registry_failing AS f ON f.person_id = p.person_id",
        datasets=[PERSONS],
    ).to_pylist()
    return {r["person_id"]: r["village"] for r in rows}


def commune_scores(
    session: Session, dep: Deployment, actor: Actor, only: str | None = None
) -> list[CommuneScore]:
    """The scores of every commune `actor` sees (or of `only`), the day's value recorded."""
    actor.require(Permission.VIEW)
    communes = {
        u.code
        for u in dep.units.of_kind(UnitKind.COMMUNE)
        if actor.sees(u.code) and (only is None or u.code == only)
    }
    living = "death_date IS NULL"
    persons = _counts(dep, PERSONS, "commune", living)
    per_village = _counts(dep, PERSONS, "village", living)
    households = _counts(dep, HOUSEHOLDS, "commune", "TRUE")
    reviewed = dict(
        session.execute(
            select(RegistryHouseholdReview.commune, func.count()).group_by(
                RegistryHouseholdReview.commune
            )
        ).all()
    )
    failing = _failing_persons(session, communes)
    all_ids = {i for c in failing.values() for ids in c.values() for i in ids}
    village_of = _villages(dep, all_ids)
    today = local_day(dep.now())
    out = []
    for commune in sorted(communes):
        n = persons.get(commune, 0)
        bad = failing.get(commune, {})
        scores = {w: 1.0 - len(bad.get(w, set())) / n if n else 1.0 for w in WORDS}
        by_village: Counter[str] = Counter()
        for ids in bad.values():
            by_village.update(v for i in ids if (v := village_of.get(i)))
        worst = sorted(
            ((v, k / per_village[v]) for v, k in by_village.items() if per_village.get(v)),
            key=lambda item: (-item[1], item[0]),
        )[:5]
        score = CommuneScore(
            commune, n, scores, {w: len(bad.get(w, set())) for w in WORDS},
            households.get(commune, 0), int(reviewed.get(commune, 0)), worst,
        )  # fmt: skip
        session.merge(RegistryScore(commune=commune, day=today, persons=n, **scores))
        session.flush()
        history = session.scalars(
            select(RegistryScore).where(RegistryScore.commune == commune)
            .order_by(RegistryScore.day.desc()).limit(30)
        ).all()  # fmt: skip
        score.trend = [(h.day, {w: getattr(h, w) for w in WORDS}) for h in reversed(history)]
        out.append(score)
    return out
