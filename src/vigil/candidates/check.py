"""Comparing each declaration with the registry: one mismatch per declared fact that a record
contradicts or that cannot be found, and a status per candidate.

Facts, and nothing else (no other attribute of a candidate is read, kept or scored):
- identity: the candidate is in the registry (else `not_found`); the declared citizen ID and
  full name are those of the record;
- age: the declared birth date is the record's, and the candidate is at least the eligibility
  age on voting day (the deployment's election calendar; `[thresholds.candidates] min_age`);
- residence: the declared commune and address are the record's;
- family: each declared spouse, parent and child is in the registry and recorded as such (in
  the candidate's household with the matching `relation_to_head`), and no spouse, parent or
  child the household records is left undeclared.

Status: `not_found` when the candidate is not in the registry, else `mismatch` when any fact
disagrees, else `verified`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import lru_cache

from vigil.candidates.declarations import Declaration
from vigil.candidates.lookup import Located, RegistryPerson, RegistrySlice, Wanted
from vigil.candidates.names import fold, fold_address, same_name
from vigil.core.units import UnitKind, UnitTree

#: Eligibility age on voting day when the deployment does not set one.
MIN_AGE = 21


class Status(StrEnum):
    VERIFIED = "verified"
    MISMATCH = "mismatch"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class Mismatch:
    """One declared fact against the record: `recorded` None when nothing was found."""

    field: str
    rule: str
    declared: str | int | None
    recorded: str | int | None
    reason: str

    def as_dict(self) -> dict[str, str | int | None]:
        return {"field": self.field, "declared": self.declared, "recorded": self.recorded}


@dataclass
class CandidateCheck:
    candidate_id: str
    unit: str
    full_name: str
    status: Status
    mismatches: list[Mismatch] = field(default_factory=list)
    person_id: str | None = None
    method: str | None = None
    probability: float | None = None
    #: Each comparison's match weight when the record was found by linkage.
    explanation: dict[str, float] = field(default_factory=dict)


# Rules, one per kind of fact (the findings' `rule`).
RULE_NOT_FOUND = "candidate-not-found"
RULE_CITIZEN_ID = "declared-citizen-id-mismatch"
RULE_NAME = "declared-name-mismatch"
RULE_BIRTH = "declared-birth-date-mismatch"
RULE_AGE = "candidate-under-age"
RULE_DECEASED = "candidate-deceased"
RULE_COMMUNE = "declared-commune-mismatch"
RULE_ADDRESS = "declared-address-mismatch"
RULE_SPOUSE = "declared-spouse-mismatch"
RULE_PARENT = "declared-parent-mismatch"
RULE_CHILD = "declared-child-mismatch"
RULES = (
    RULE_NOT_FOUND,
    RULE_CITIZEN_ID,
    RULE_NAME,
    RULE_BIRTH,
    RULE_AGE,
    RULE_DECEASED,
    RULE_COMMUNE,
    RULE_ADDRESS,
    RULE_SPOUSE,
    RULE_PARENT,
    RULE_CHILD,
)

#: Who, by their relation to the head of household, is the spouse, parent or child of a member
#: with a given relation: {candidate's relation: {declared kind: relations that count}}.
SPOUSES = frozenset({"vợ", "chồng"})
PARENTS = frozenset({"cha", "mẹ"})
HEAD = "chủ hộ"
FAMILY_OF: dict[str, dict[str, frozenset[str]]] = {
    HEAD: {"spouse": SPOUSES, "parents": PARENTS, "children": frozenset({"con"})},
    "vợ": {"spouse": frozenset({HEAD}), "children": frozenset({"con"})},
    "chồng": {"spouse": frozenset({HEAD}), "children": frozenset({"con"})},
    "con": {"parents": frozenset({HEAD}) | SPOUSES},
    "cha": {"spouse": frozenset({"mẹ"}), "children": frozenset({HEAD})},
    "mẹ": {"spouse": frozenset({"cha"}), "children": frozenset({HEAD})},
}
FAMILY_RULES = {"spouse": RULE_SPOUSE, "parents": RULE_PARENT, "children": RULE_CHILD}


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


@lru_cache(maxsize=8)
def _commune_names(units: UnitTree) -> dict[str, str]:
    """Each commune's code, folded names and folded names without "Xã"/"Phường", to its code."""
    names: dict[str, str] = {}
    for unit in units.of_kind(UnitKind.COMMUNE):
        for name in (fold(unit.name_vi), fold(unit.name("en"))):
            names.setdefault(name, unit.code)
            if " " in name:
                names.setdefault(name.split(" ", 1)[1], unit.code)
    return names


def commune_code(units: UnitTree, declared: str | None) -> str | None:
    """The unit code a declared commune names: its code, or its name with or without 'Xã'."""
    if not declared:
        return None
    if declared in units:
        return declared
    return _commune_names(units).get(fold(declared))


def wanted_of(declaration: Declaration, units: UnitTree) -> Wanted:
    return Wanted(
        declaration.candidate_id,
        declaration.citizen_id,
        declaration.full_name,
        declaration.birth_date,
        commune_code(units, declaration.commune),
        declaration.address,
    )


@dataclass(frozen=True)
class Rules:
    """What the check needs besides the two sides: the day ages count at, the minimum age."""

    voting_day: date
    min_age: int = MIN_AGE


def check_declaration(
    declaration: Declaration,
    found: Located | None,
    registry: RegistrySlice,
    units: UnitTree,
    rules: Rules,
) -> CandidateCheck:
    """The candidate's status and every fact the registry contradicts or lacks, `found` being
    the candidate's record (`lookup.locate_all`), None when the registry does not hold them."""
    wanted = wanted_of(declaration, units)
    unit = _unit(units, found, wanted)
    result = CandidateCheck(declaration.candidate_id, unit, declaration.full_name, Status.VERIFIED)
    if found is None:
        result.status = Status.NOT_FOUND
        result.mismatches.append(_not_found(declaration, registry))
        return result
    person = found.person
    result.person_id, result.method, result.probability = (
        person.person_id,
        found.method,
        found.probability,
    )
    result.explanation = dict(found.explanation)
    result.mismatches += _identity(declaration, person, registry)
    result.mismatches += _age(declaration, person, rules)
    result.mismatches += _residence(declaration, wanted, person)
    result.mismatches += _family(declaration, person, registry)
    if result.mismatches:
        result.status = Status.MISMATCH
    return result


def _unit(units: UnitTree, found: Located | None, wanted: Wanted) -> str:
    if found is not None and found.person.commune in units:
        return str(found.person.commune)
    return wanted.commune or units.root.code


def _not_found(declaration: Declaration, registry: RegistrySlice) -> Mismatch:
    if registry.by_id.get(declaration.citizen_id or ""):
        # The third person's record is not shown: only that the ID is theirs.
        reason = "the declared citizen ID is another person's; nobody has this name and birth date"
    else:
        reason = "no registry record with this citizen ID, nor with this name and birth date"
    return Mismatch("identity", RULE_NOT_FOUND, declaration.full_name, None, reason)


def _identity(d: Declaration, person: RegistryPerson, registry: RegistrySlice) -> list[Mismatch]:
    out = []
    if d.citizen_id != person.citizen_id:
        reason = "citizen ID not declared" if not d.citizen_id else "another citizen ID on record"
        out.append(Mismatch("citizen_id", RULE_CITIZEN_ID, d.citizen_id, person.citizen_id, reason))
    if not same_name(d.full_name, person.full_name or ""):
        out.append(
            Mismatch(
                "full_name", RULE_NAME, d.full_name, person.full_name, "another name on record"
            )
        )
    death = person.death_date or registry.deaths.get(person.citizen_id or "")
    if death is not None:
        out.append(
            Mismatch(
                "death_date", RULE_DECEASED, None, death.isoformat(), "the registry records a death"
            )
        )
    return out


def _age(d: Declaration, person: RegistryPerson, rules: Rules) -> list[Mismatch]:
    out = []
    if person.birth_date is not None and d.birth_date != person.birth_date:
        out.append(
            Mismatch(
                "birth_date",
                RULE_BIRTH,
                d.birth_date.isoformat(),
                person.birth_date.isoformat(),
                "another birth date on record",
            )
        )
    birth = person.birth_date or d.birth_date
    recorded = age_on(birth, rules.voting_day)
    if recorded < rules.min_age:
        out.append(
            Mismatch(
                "age",
                RULE_AGE,
                age_on(d.birth_date, rules.voting_day),
                recorded,
                f"under {rules.min_age} on voting day {rules.voting_day.isoformat()}",
            )
        )
    return out


def _residence(d: Declaration, wanted: Wanted, person: RegistryPerson) -> list[Mismatch]:
    out = []
    if wanted.commune != person.commune:
        reason = "commune not declared" if not d.commune else "another commune on record"
        out.append(Mismatch("commune", RULE_COMMUNE, d.commune, person.commune, reason))
    if fold_address(d.address or "") != fold_address(person.address or ""):
        reason = "address not declared" if not d.address else "another address on record"
        out.append(Mismatch("address", RULE_ADDRESS, d.address, person.address, reason))
    return out


def _family(d: Declaration, person: RegistryPerson, registry: RegistrySlice) -> list[Mismatch]:
    relations = FAMILY_OF.get(person.relation_to_head or "", {})
    household = [
        p for p in registry.household(person.household_id) if p.person_id != person.person_id
    ]
    out: list[Mismatch] = []
    for kind, rule in FAMILY_RULES.items():
        recorded = [p for p in household if p.relation_to_head in relations.get(kind, frozenset())]
        left = list(recorded)
        for name in getattr(d, kind):
            match = next((p for p in left if p.name_key == fold(name)), None)
            if match is not None:
                left.remove(match)
                continue
            elsewhere = registry.by_name.get(fold(name), [])
            in_house = [p for p in household if p.name_key == fold(name)]
            if in_house:
                rec = f"{in_house[0].full_name} ({in_house[0].relation_to_head})"
                reason = f"in the household, recorded as {in_house[0].relation_to_head}"
            elif elsewhere:
                rec, reason = None, "in the registry, but no relation to the candidate is recorded"
            else:
                rec, reason = None, "nobody of this name in the registry"
            out.append(Mismatch(kind, rule, name, rec, reason))
        for p in left:
            out.append(
                Mismatch(
                    kind, rule, None, p.full_name, f"recorded as {p.relation_to_head}, not declared"
                )
            )
    return out
