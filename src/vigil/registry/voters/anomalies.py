"""Anomalous changes behind the voter lists, as Findings of capability `registry`.

- `voter-move-burst`: at least `min_persons` persons, from at least `min_sources` different
  households, moved into one household within `window_days` days. Subject: the household id.
- `voter-removal-burst`: at least `min_removals` persons, and at least `min_share` of the
  village's listed persons, left one village's list on one day, by a death record registered that
  day or a move out of the village that day. Subject: `<village>@<day>`.

The rules and their thresholds are declared in anomalies.yaml; `[thresholds.registry.<rule>]`
in vigil.toml overrides a threshold. They look at every move and death each run; a repeat is the
same finding (same fingerprint), so running again adds nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from vigil.core.errors import Location
from vigil.core.finding import Finding
from vigil.core.severity import Severity
from vigil.deployment import Deployment
from vigil.lake.engine import LakeEngine
from vigil.registry.errors import RegistryError
from vigil.registry.voters.eligibility import register_sources

CAPABILITY = "registry"
MOVE_BURST, REMOVAL_BURST = "voter-move-burst", "voter-removal-burst"
RULES_FILE = Path(__file__).with_name("anomalies.yaml")
_THRESHOLDS: dict[str, dict[str, type[int] | type[float]]] = {
    MOVE_BURST: {"min_persons": int, "min_sources": int, "window_days": int},
    REMOVAL_BURST: {"min_removals": int, "min_share": float},
}


@dataclass(frozen=True)
class AnomalyRule:
    name: str
    severity: Severity
    title: str
    title_vi: str
    thresholds: dict[str, float]

    def finding(self, unit: str, subject: str, evidence: dict[str, Any], when: datetime) -> Finding:
        return Finding(
            capability=CAPABILITY, rule=self.name, severity=self.severity, unit=unit,
            subject=subject, title=self.title, title_vi=self.title_vi,
            evidence={**evidence, "thresholds": dict(self.thresholds)}, observed_at=when,
        )  # fmt: skip


def parse_rules(text: str, source: str) -> dict[str, AnomalyRule]:
    try:
        body = yaml.safe_load(text)
        rules = {
            str(item["name"]): AnomalyRule(
                name=str(item["name"]),
                severity=Severity.parse(item["severity"]),
                title=str(item["title"]),
                title_vi=str(item["title_vi"]),
                thresholds={str(k): v for k, v in dict(item["thresholds"]).items()},
            )
            for item in body["rules"]
        }
    except (yaml.YAMLError, KeyError, TypeError, ValueError) as e:
        raise RegistryError(f"bad voter anomaly rules: {e}", location=Location(source)) from e
    if set(rules) != set(_THRESHOLDS):
        raise RegistryError(
            f"voter anomaly rules must be {sorted(_THRESHOLDS)}", location=Location(source)
        )
    for name, rule in rules.items():
        rules[name] = with_thresholds(rule, rule.thresholds, source)
    return rules


def with_thresholds(rule: AnomalyRule, values: dict[str, Any], source: str) -> AnomalyRule:
    """`rule` with `values` over its thresholds, each checked for its name and type."""
    merged: dict[str, float] = dict(rule.thresholds)
    for key, value in values.items():
        kind = _THRESHOLDS[rule.name].get(key)
        if kind is None or isinstance(value, bool) or not isinstance(value, int | float):
            raise RegistryError(
                f"{rule.name}: unknown threshold {key!r} or not a number", location=Location(source)
            )
        if value < 0 or (kind is int and value != int(value)):
            raise RegistryError(
                f"{rule.name}: {key} must be a non-negative {kind.__name__}",
                location=Location(source),
            )
        merged[key] = kind(value)
    if set(merged) != set(_THRESHOLDS[rule.name]):
        raise RegistryError(f"{rule.name}: thresholds missing", location=Location(source))
    return AnomalyRule(rule.name, rule.severity, rule.title, rule.title_vi, merged)


@cache
def default_rules() -> dict[str, AnomalyRule]:
    return parse_rules(RULES_FILE.read_text(encoding="utf-8"), str(RULES_FILE))


def deployment_rules(deployment: Deployment) -> dict[str, AnomalyRule]:
    """The declared rules with the deployment's [thresholds.registry.<rule>] over them."""
    overrides = deployment.province.thresholds.get(CAPABILITY, {})
    rules = dict(default_rules())
    for name, rule in rules.items():
        values = overrides.get(name)
        if isinstance(values, dict):
            rules[name] = with_thresholds(rule, values, "vigil.toml")
    return rules


def move_bursts(engine: LakeEngine, rule: AnomalyRule, when: datetime) -> list[Finding]:
    """voter-move-burst over the view voter_moves."""
    t = rule.thresholds
    rows = engine.query(
        """
        SELECT m.household_id, m.commune, m.person_id, m.from_household_id, m.moved_on
        FROM voter_moves AS m
        WHERE m.household_id IN (
          SELECT household_id FROM voter_moves WHERE moved_on IS NOT NULL
          GROUP BY household_id HAVING count(DISTINCT person_id) >= $min_persons)
          AND m.moved_on IS NOT NULL
        ORDER BY m.household_id, m.moved_on, m.person_id
        """,
        {"min_persons": int(t["min_persons"])},
    ).to_pylist()
    by_household: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_household[str(row["household_id"])].append(row)
    window = timedelta(days=int(t["window_days"]))
    findings = []
    for household, moves in by_household.items():
        best = _densest_window(moves, window)
        persons = {m["person_id"] for m in best}
        sources = {m["from_household_id"] for m in best if m["from_household_id"]}
        if len(persons) < t["min_persons"] or len(sources) < t["min_sources"]:
            continue
        evidence = {
            "persons": len(persons),
            "source_households": len(sources),
            "first_move": best[0]["moved_on"].isoformat(),
            "last_move": best[-1]["moved_on"].isoformat(),
            "moves": sorted(str(p) for p in persons),
        }
        unit = str(best[-1]["commune"] or "")
        findings.append(rule.finding(unit, household, evidence, when))
    return findings


def _densest_window(moves: list[dict[str, Any]], window: timedelta) -> list[dict[str, Any]]:
    """The moves (sorted by day) in the window holding the most distinct persons."""
    best: list[dict[str, Any]] = []
    best_persons, start = 0, 0
    for end, move in enumerate(moves):
        while move["moved_on"] - moves[start]["moved_on"] >= window:
            start += 1
        persons = len({m["person_id"] for m in moves[start : end + 1]})
        if persons > best_persons:
            best, best_persons = moves[start : end + 1], persons
    return best


_REMOVALS_SQL = """
WITH removals AS (
  SELECT p.commune AS commune, p.village AS village, d.registered_on AS day,
         p.person_id AS person_id, 'death_record' AS kind
  FROM voter_deaths AS d JOIN voter_persons AS p ON p.citizen_id = d.citizen_id
  WHERE p.village IS NOT NULL AND d.registered_on IS NOT NULL
  UNION ALL
  SELECT h.commune AS commune, h.village AS village, m.moved_on AS day,
         m.person_id AS person_id, 'moved_out' AS kind
  FROM voter_moves AS m JOIN voter_households AS h ON h.household_id = m.from_household_id
  WHERE h.village IS NOT NULL AND m.moved_on IS NOT NULL
    AND (m.village IS NULL OR m.village <> h.village)
), people AS (
  SELECT village, count(*) AS listed FROM voter_persons
  WHERE death_date IS NULL AND village IS NOT NULL GROUP BY village
)
SELECT r.commune, r.village, r.day, count(DISTINCT r.person_id) AS removals,
       count(DISTINCT CASE WHEN r.kind = 'death_record' THEN r.person_id END) AS deaths,
       count(DISTINCT CASE WHEN r.kind = 'moved_out' THEN r.person_id END) AS moves_out,
       max(pp.listed) AS listed
FROM removals AS r LEFT JOIN people AS pp ON pp.village = r.village
GROUP BY r.commune, r.village, r.day
HAVING count(DISTINCT r.person_id) >= $min_removals
ORDER BY r.village, r.day
"""


def removal_bursts(engine: LakeEngine, rule: AnomalyRule, when: datetime) -> list[Finding]:
    """voter-removal-burst over the views voter_deaths, voter_moves, voter_persons and
    voter_households."""
    t = rule.thresholds
    rows = engine.query(_REMOVALS_SQL, {"min_removals": int(t["min_removals"])}).to_pylist()
    findings = []
    for row in rows:
        listed = int(row["listed"] or 0) + int(row["moves_out"])  # the village before the moves
        if row["removals"] < t["min_share"] * listed:
            continue
        day: date = row["day"]
        evidence = {
            "village": row["village"],
            "day": day.isoformat(),
            "removals": int(row["removals"]),
            "death_records": int(row["deaths"]),
            "moves_out": int(row["moves_out"]),
            "village_persons": listed,
        }
        subject = f"{row['village']}@{day.isoformat()}"
        findings.append(rule.finding(str(row["commune"]), subject, evidence, when))
    return findings


def voter_anomalies(deployment: Deployment) -> list[Finding]:
    """Both rules over what the lake holds now."""
    rules = deployment_rules(deployment)
    engine = register_sources(deployment)
    when = deployment.now()
    return move_bursts(engine, rules[MOVE_BURST], when) + removal_bursts(
        engine, rules[REMOVAL_BURST], when
    )
