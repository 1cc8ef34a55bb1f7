"""The "clean" rules: the same person listed twice, and two persons sharing one citizen ID.

Record linkage proposes the pairs that name one person (with or without the same ID); two
living records sharing an ID that linkage does not judge one person are two persons on one ID.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from vigil.core.finding import Finding
from vigil.core.personal import PERSONAL_KEY
from vigil.deployment import Deployment
from vigil.registry.linkage.link import LinkedPair, dedupe
from vigil.registry.linkage.sources import registry_persons
from vigil.registry.rules.catalog import Catalog, QualityRule

CAPABILITY = "registry"
PAIR_SEPARATOR = " ~ "
DUPLICATE, SHARED = "duplicate-person", "citizen-id-shared"

_SHARED_SQL = """
SELECT a.person_id AS left_id, b.person_id AS right_id, a.commune AS unit,
       a.citizen_id AS citizen_id, a.full_name AS left_name, b.full_name AS right_name
FROM persons AS a JOIN persons AS b
  ON a.citizen_id = b.citizen_id AND a.person_id < b.person_id
WHERE a.death_date IS NULL AND b.death_date IS NULL AND a.citizen_id <> ''
"""


def pair_subject(left: str, right: str) -> str:
    return PAIR_SEPARATOR.join(sorted((left, right)))


def _finding(
    rule: QualityRule, subject: str, unit: str, evidence: dict[str, Any], when: datetime
) -> Finding:
    return Finding(
        capability=CAPABILITY,
        rule=rule.name,
        severity=rule.severity,
        unit=unit,
        subject=subject,
        title=rule.title,
        title_vi=rule.title_vi,
        evidence={**evidence, "word": rule.word},
        observed_at=when,
    )


def proposed_pairs(deployment: Deployment) -> list[LinkedPair]:
    """The pairs record linkage proposes over the living registry, on the lake's engine."""
    persons = registry_persons(deployment.lake)
    if persons.num_rows < 2:
        return []
    return dedupe(persons, engine=deployment.lake.engine)


def clean_findings(deployment: Deployment, catalog: Catalog, when: datetime) -> list[Finding]:
    """duplicate-person for each proposed pair, citizen-id-shared for the other same-ID pairs.
    Needs the `persons` view registered (rules.check.register_views)."""
    rules = {r.name: r for r in catalog.rules if r.kind == "linkage"}
    persons = deployment.lake.engine.query(
        "SELECT person_id, commune, full_name FROM persons WHERE death_date IS NULL"
    ).to_pylist()
    where = {p["person_id"]: p for p in persons}
    root = deployment.units.root.code
    findings = []
    linked = set()
    if DUPLICATE in rules:
        for pair in proposed_pairs(deployment):
            linked.add((pair.left, pair.right))
            left, right = where.get(pair.left, {}), where.get(pair.right, {})
            evidence = {
                "records": [pair.left, pair.right],
                "probability": round(pair.probability, 6),
                "explanation": {k: round(v, 3) for k, v in pair.explanation.items()},
                PERSONAL_KEY: {
                    f"full_name:{pair.left}": left.get("full_name"),
                    f"full_name:{pair.right}": right.get("full_name"),
                },
            }
            unit = str(left.get("commune") or right.get("commune") or root)
            subject = pair_subject(pair.left, pair.right)
            findings.append(_finding(rules[DUPLICATE], subject, unit, evidence, when))
    if SHARED in rules:
        for row in deployment.lake.engine.query(_SHARED_SQL).to_pylist():
            if (row["left_id"], row["right_id"]) in linked:
                continue
            evidence = {
                "records": [row["left_id"], row["right_id"]],
                PERSONAL_KEY: {
                    "citizen_id": row["citizen_id"],
                    f"full_name:{row['left_id']}": row["left_name"],
                    f"full_name:{row['right_id']}": row["right_name"],
                },
            }
            subject = pair_subject(row["left_id"], row["right_id"])
            findings.append(
                _finding(rules[SHARED], subject, str(row["unit"] or root), evidence, when)
            )
    return findings
