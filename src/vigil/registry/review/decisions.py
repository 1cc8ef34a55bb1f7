"""The duplicate review queue: proposed pairs with why, and an officer's accept or reject."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.core.access import Actor, Permission
from vigil.core.errors import NotFoundError, ValidationError
from vigil.core.finding import OPEN_STATUSES
from vigil.core.personal import mask_evidence
from vigil.registry.models import RegistryHouseholdReview, RegistryPairDecision
from vigil.registry.rules.clean import DUPLICATE, PAIR_SEPARATOR
from vigil.store.audit import audit
from vigil.store.models import FindingRow

DECISIONS = ("accepted", "rejected")


@dataclass(frozen=True)
class ProposedPair:
    left: str
    right: str
    commune: str
    probability: float
    explanation: dict[str, float]
    #: Masked personal values (names), by field key.
    personal: dict[str, Any]
    decision: str | None


def duplicate_queue(
    session: Session, actor: Actor, commune: str | None = None
) -> list[ProposedPair]:
    """Proposed duplicates of the communes `actor` sees, undecided first, masked."""
    actor.require(Permission.VIEW)
    query = select(FindingRow).where(
        FindingRow.capability == "registry",
        FindingRow.rule == DUPLICATE,
        FindingRow.status.in_([s.value for s in OPEN_STATUSES]),
    )
    if commune:
        query = query.where(FindingRow.unit == commune)
    decided = {(d.left, d.right): d.decision for d in session.scalars(select(RegistryPairDecision))}
    pairs = []
    for row in session.scalars(query):
        if not actor.sees(row.unit):
            continue
        left, right = row.subject.split(PAIR_SEPARATOR)
        evidence = mask_evidence(row.evidence)
        pairs.append(
            ProposedPair(
                left, right, row.unit, float(evidence.get("probability", 0.0)),
                dict(evidence.get("explanation", {})), dict(evidence.get("personal", {})),
                decided.get((left, right)),
            )
        )  # fmt: skip
    return sorted(pairs, key=lambda p: (p.decision is not None, -p.probability, p.left))


def decide_pair(session: Session, actor: Actor, left: str, right: str, decision: str) -> None:
    """Record an officer's decision on a proposed pair (a later decision replaces it); audited.

    Accepted: the two records are one person (the register must remove one); rejected: two
    persons, the pair no longer counts against the commune's "clean" score.
    """
    actor.require(Permission.MANAGE_DATA)
    if decision not in DECISIONS:
        raise ValidationError(f"a decision is one of {', '.join(DECISIONS)}")
    left, right = sorted((left, right))
    finding = session.scalars(
        select(FindingRow).where(
            FindingRow.capability == "registry",
            FindingRow.rule == DUPLICATE,
            FindingRow.subject == f"{left}{PAIR_SEPARATOR}{right}",
        )
    ).first()
    if finding is None or not actor.sees(finding.unit):
        raise NotFoundError(f"no proposed pair {left} ~ {right} in your units")
    session.merge(
        RegistryPairDecision(
            left=left, right=right, commune=finding.unit, decision=decision,
            probability=float(finding.evidence.get("probability", 0.0)),
            explanation=finding.evidence.get("explanation", {}), decided_by=actor.username,
        )
    )  # fmt: skip
    audit(session, actor, f"registry.pair.{decision}", f"{left} ~ {right}", unit=finding.unit)


def mark_reviewed(
    session: Session, actor: Actor, household_id: str, commune: str, note: str = ""
) -> None:
    """Mark a household reviewed (the task is 100 % of households); audited."""
    actor.require(Permission.MANAGE_DATA)
    actor.require_unit(commune)
    session.merge(
        RegistryHouseholdReview(
            household_id=household_id, commune=commune, reviewed_by=actor.username, note=note
        )
    )
    audit(session, actor, "registry.household.reviewed", household_id, unit=commune)
