"""The room's part of the demo: a candidate list drawn from the demo population, with planted
mismatches of every kind, written as a CSV file and imported the way an officer would.

About one candidate per 20 persons (1,000 at the demo's default 20,000). Candidates are heads
of household or their spouses (and, for the under-age kind, a grown child), chosen among clean
records only: nobody the registry's own planted problems touch, nobody sharing a name and birth
date or a citizen ID with another record. A clean candidate declares exactly what the registry
holds (family included); a planted one differs in exactly one fact, named in the ground truth.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from vigil.candidates import check as rules
from vigil.candidates.check import FAMILY_OF, HEAD, age_on
from vigil.candidates.declarations import Declaration
from vigil.candidates.detect import CAPABILITY, rules_for
from vigil.candidates.ingest import import_declarations
from vigil.candidates.lookup import COLUMNS, PERSONS, RegistryPerson
from vigil.candidates.mapping import COLUMNS as FILE_COLUMNS
from vigil.candidates.mapping import Mapping
from vigil.candidates.names import fold
from vigil.core.units import UnitKind
from vigil.plugins import DemoContext

FILE = Path("demo") / "candidates.csv"
PERSONS_PER_CANDIDATE = 20
#: Share of candidates with one planted mismatch.
PLANTED_SHARE = 0.15
_IDS = re.compile(r"\b(?:NK|HK)\d{8}\b")


@dataclass
class Pool:
    """The demo registry as the planting needs it."""

    persons: list[RegistryPerson]
    households: dict[str, list[RegistryPerson]]
    names: set[str]
    citizen_ids: set[str]
    given: list[str]
    family: list[str]
    communes: list[str]


def _registry(ctx: DemoContext) -> Pool:
    files = ctx.deployment.lake.files(PERSONS)
    table = pa.concat_tables([pq.read_table(f, columns=list(COLUMNS)) for f in files])
    persons = [RegistryPerson(**row) for row in table.to_pylist()]
    households: dict[str, list[RegistryPerson]] = defaultdict(list)
    for p in persons:
        households[p.household_id or ""].append(p)
    full = [p.full_name for p in persons if p.full_name]
    communes = sorted(u.code for u in ctx.deployment.units.of_kind(UnitKind.COMMUNE))
    return Pool(
        persons,
        households,
        {fold(n) for n in full},
        {p.citizen_id for p in persons if p.citizen_id},
        sorted({n.split()[-1] for n in full}),
        sorted({n.split()[0] for n in full}),
        communes,
    )


def _clean_households(ctx: DemoContext, pool: Pool) -> set[str]:
    """Households none of whose members the registry's planted problems touch."""
    touched: set[str] = set()
    for t in ctx.truth:
        touched.add(t.subject)
        touched.update(_IDS.findall(t.note))
    keys = Counter((p.name_key, p.birth_date) for p in pool.persons)
    ids = Counter(p.citizen_id for p in pool.persons)
    clean = set()
    for hh, members in pool.households.items():
        if not hh or hh in touched:
            continue
        if any(
            p.person_id in touched
            or keys[(p.name_key, p.birth_date)] > 1
            or ids[p.citizen_id] > 1
            or not p.citizen_id
            or not p.full_name
            or not p.birth_date
            or not p.address
            for p in members
        ):
            continue
        if len({p.name_key for p in members}) < len(members):
            continue
        clean.add(hh)
    return clean


def declaration_of(
    person: RegistryPerson, household: list[RegistryPerson], key: str
) -> Declaration:
    """What a truthful candidate declares: the record, and the family the household records."""
    relations = FAMILY_OF.get(person.relation_to_head or "", {})
    others = [p for p in household if p.person_id != person.person_id]

    def kin(kind: str) -> tuple[str, ...]:
        wanted = relations.get(kind, frozenset())
        return tuple(str(p.full_name) for p in others if p.relation_to_head in wanted)

    assert person.birth_date is not None
    return Declaration(
        candidate_id=key,
        full_name=str(person.full_name),
        birth_date=person.birth_date,
        citizen_id=person.citizen_id,
        commune=person.commune,
        address=person.address,
        spouse=kin("spouse"),
        parents=kin("parents"),
        children=kin("children"),
    )


def _invented_name(rng: np.random.Generator, pool: Pool) -> str:
    while True:
        name = " ".join(
            (
                pool.family[int(rng.integers(len(pool.family)))],
                pool.given[int(rng.integers(len(pool.given)))],
                pool.given[int(rng.integers(len(pool.given)))],
            )
        )
        if fold(name) not in pool.names:
            pool.names.add(fold(name))
            return name


def _new_id(rng: np.random.Generator, pool: Pool, like: str) -> str:
    while True:
        cid = like[:6] + "".join(str(int(d)) for d in rng.integers(0, 10, size=6))
        if cid not in pool.citizen_ids:
            pool.citizen_ids.add(cid)
            return cid


Plant = Callable[
    [np.random.Generator, Pool, Declaration, RegistryPerson], tuple[Declaration, str] | None
]


def _wrong_birth(
    rng: np.random.Generator, pool: Pool, d: Declaration, p: RegistryPerson
) -> tuple[Declaration, str]:
    shift = int(rng.integers(30, 400)) * (1 if rng.random() < 0.5 else -1)
    return replace(
        d, birth_date=d.birth_date + timedelta(days=shift)
    ), f"birth date moved by {shift} days"


def _wrong_id(
    rng: np.random.Generator, pool: Pool, d: Declaration, p: RegistryPerson
) -> tuple[Declaration, str]:
    return replace(
        d, citizen_id=_new_id(rng, pool, d.citizen_id or "046")
    ), "another citizen ID, nobody's"


def _missing_id(
    rng: np.random.Generator, pool: Pool, d: Declaration, p: RegistryPerson
) -> tuple[Declaration, str]:
    return replace(d, citizen_id=None), "citizen ID left empty"


def _wrong_commune(
    rng: np.random.Generator, pool: Pool, d: Declaration, p: RegistryPerson
) -> tuple[Declaration, str] | None:
    others = [c for c in pool.communes if c != p.commune]
    if not others:
        return None
    return replace(d, commune=others[int(rng.integers(len(others)))]), "another commune"


def _wrong_address(
    rng: np.random.Generator, pool: Pool, d: Declaration, p: RegistryPerson
) -> tuple[Declaration, str] | None:
    address = d.address or ""
    moved = re.sub(
        r"^Số (\d+)", lambda m: f"Số {int(m.group(1)) + int(rng.integers(1, 50))}", address
    )
    return (replace(d, address=moved), "another house number") if moved != address else None


def _wrong_name(
    rng: np.random.Generator, pool: Pool, d: Declaration, p: RegistryPerson
) -> tuple[Declaration, str]:
    parts = d.full_name.split()
    while True:
        given = pool.given[int(rng.integers(len(pool.given)))]
        if fold(given) != fold(parts[-1]):
            return replace(d, full_name=" ".join([*parts[:-1], given])), "another given name"


def _undeclared_spouse(
    rng: np.random.Generator, pool: Pool, d: Declaration, p: RegistryPerson
) -> tuple[Declaration, str] | None:
    return (replace(d, spouse=()), "recorded spouse left out") if d.spouse else None


def _invented_spouse(
    rng: np.random.Generator, pool: Pool, d: Declaration, p: RegistryPerson
) -> tuple[Declaration, str] | None:
    if d.spouse:
        return None
    return replace(d, spouse=(_invented_name(rng, pool),)), "a spouse nobody records"


def _invented_child(
    rng: np.random.Generator, pool: Pool, d: Declaration, p: RegistryPerson
) -> tuple[Declaration, str]:
    return replace(d, children=(*d.children, _invented_name(rng, pool))), "a child nobody records"


def _invented_parent(
    rng: np.random.Generator, pool: Pool, d: Declaration, p: RegistryPerson
) -> tuple[Declaration, str] | None:
    if p.relation_to_head != HEAD:
        return None
    return replace(d, parents=(*d.parents, _invented_name(rng, pool))), "a parent nobody records"


def _unknown_person(
    rng: np.random.Generator, pool: Pool, d: Declaration, p: RegistryPerson
) -> tuple[Declaration, str]:
    invented = replace(
        d,
        full_name=_invented_name(rng, pool),
        citizen_id=_new_id(rng, pool, d.citizen_id or "046"),
        spouse=(),
        parents=(),
        children=(),
    )
    return invented, "a person the registry does not hold"


def _wrong_id_bare_name(
    rng: np.random.Generator, pool: Pool, d: Declaration, p: RegistryPerson
) -> tuple[Declaration, str] | None:
    """Another ID, and the given name typed without its marks: only name and date place it."""
    parts = d.full_name.split()
    bare = fold(parts[-1]).capitalize()
    # A name left with no diacritics at all reads as typed on a plain keyboard, which the check
    # rightly accepts: only a name that keeps some of its marks makes this a mismatch.
    if bare == parts[-1] or " ".join([*parts[:-1], bare]).isascii():
        return None
    typed = replace(
        d,
        full_name=" ".join([*parts[:-1], bare]),
        citizen_id=_new_id(rng, pool, d.citizen_id or "046"),
    )
    return typed, "another citizen ID, nobody's; the given name without diacritics"


#: Each kind of planted mismatch: the rules that must find it, and how it is made.
PLANTS: dict[str, tuple[tuple[str, ...], Plant]] = {
    "wrong birth date": ((rules.RULE_BIRTH,), _wrong_birth),
    "wrong citizen ID": ((rules.RULE_CITIZEN_ID,), _wrong_id),
    "missing citizen ID": ((rules.RULE_CITIZEN_ID,), _missing_id),
    "wrong ID, name typed without diacritics": (
        (rules.RULE_CITIZEN_ID, rules.RULE_NAME),
        _wrong_id_bare_name,
    ),
    "wrong commune": ((rules.RULE_COMMUNE,), _wrong_commune),
    "wrong address": ((rules.RULE_ADDRESS,), _wrong_address),
    "wrong name": ((rules.RULE_NAME,), _wrong_name),
    "undeclared spouse": ((rules.RULE_SPOUSE,), _undeclared_spouse),
    "nonexistent spouse": ((rules.RULE_SPOUSE,), _invented_spouse),
    "child not found": ((rules.RULE_CHILD,), _invented_child),
    "parent not found": ((rules.RULE_PARENT,), _invented_parent),
    "not in the registry": ((rules.RULE_NOT_FOUND,), _unknown_person),
}


def _under_age(
    ctx: DemoContext, pool: Pool, clean: set[str], voting_day: date, min_age: int
) -> list[RegistryPerson]:
    return [
        p
        for p in pool.persons
        if p.household_id in clean
        and p.relation_to_head == "con"
        and p.birth_date is not None
        and 18 <= age_on(p.birth_date, voting_day) < min_age
    ]


def _rows(declarations: list[Declaration]) -> list[dict[str, Any]]:
    return [
        {
            "candidate_id": d.candidate_id,
            "full_name": d.full_name,
            "birth_date": d.birth_date.strftime("%d/%m/%Y"),
            "citizen_id": d.citizen_id or "",
            "commune": d.commune or "",
            "address": d.address or "",
            "spouse": "; ".join(d.spouse),
            "parents": "; ".join(d.parents),
            "children": "; ".join(d.children),
        }
        for d in declarations
    ]


def choose(ctx: DemoContext) -> tuple[list[Declaration], list[tuple[str, str, str, str]]]:
    """The declarations and, for each planted one, (candidate_id, rule, unit, note)."""
    pool = _registry(ctx)
    clean = _clean_households(ctx, pool)
    rng = np.random.default_rng([ctx.seed, 1010])
    rule_set = rules_for(ctx.deployment)
    eligible = [
        p
        for p in pool.persons
        if p.household_id in clean
        and p.relation_to_head in (HEAD, "vợ", "chồng")
        and p.death_date is None
        and p.birth_date is not None
        and age_on(p.birth_date, rule_set.voting_day) >= rule_set.min_age
    ]
    total = max(len(PLANTS) + 2, ctx.persons // PERSONS_PER_CANDIDATE)
    chosen: list[RegistryPerson] = []
    used: set[str] = set()
    for i in rng.permutation(len(eligible)):
        p = eligible[int(i)]
        if p.household_id not in used:
            chosen.append(p)
            used.add(str(p.household_id))
        if len(chosen) == total:
            break
    young = [
        p
        for p in _under_age(ctx, pool, clean, rule_set.voting_day, rule_set.min_age)
        if p.household_id not in used
    ]
    kinds = list(PLANTS)
    n_planted = max(len(kinds), round(len(chosen) * PLANTED_SHARE))
    declarations, planted = [], []
    for index, person in enumerate(chosen):
        key = f"UCV-{index + 1:05d}"
        declaration = declaration_of(person, pool.households[str(person.household_id)], key)
        unit = str(person.commune)
        if index < n_planted:
            kind = kinds[index % len(kinds)]
            rule, plant = PLANTS[kind]
            made = None
            for _attempt in range(len(kinds)):
                made = plant(rng, pool, declaration, person)
                if made is not None:
                    break
                kind = kinds[(kinds.index(kind) + 1) % len(kinds)]
                rule, plant = PLANTS[kind]
            if made is not None:
                declaration, note = made
                planted += [(key, r, unit, f"{kind}: {note}") for r in rule]
        declarations.append(declaration)
    for j, person in enumerate(young[: max(1, len(chosen) // 200)]):
        key = f"UCV-{len(chosen) + j + 1:05d}"
        declarations.append(declaration_of(person, pool.households[str(person.household_id)], key))
        age = age_on(person.birth_date or rule_set.voting_day, rule_set.voting_day)
        planted.append(
            (key, rules.RULE_AGE, str(person.commune), f"under age: {age} on voting day")
        )
    return declarations, planted


def build_demo(ctx: DemoContext) -> None:
    """Write the candidate list, import it (two malformed rows quarantined), plant the truth."""
    declarations, planted = choose(ctx)
    path = ctx.deployment.settings.data / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(FILE_COLUMNS))
        writer.writeheader()
        writer.writerows(_rows(declarations))
        # What a clerk's spreadsheet also holds: rows the import must set aside with a reason.
        writer.writerow(
            {c: "" for c in FILE_COLUMNS}
            | {"candidate_id": "UCV-X0001", "full_name": "Phạm Văn Lỗi"}
        )
        writer.writerow(
            {c: "" for c in FILE_COLUMNS}
            | {"candidate_id": "UCV-X0002", "full_name": "Lê Thị Sai", "birth_date": "31/02/1980"}
        )
    import_declarations(ctx.deployment, path, Mapping())
    for key, rule, unit, note in planted:
        ctx.plant(capability=CAPABILITY, rule=rule, subject=key, unit=unit, note=note)
