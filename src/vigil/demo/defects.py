"""Problems planted in the demo population for the registry capability to find.

About 1.3% of records carry exactly one problem each, so every planted record has one rule to
match: invalid citizen IDs, empty required fields, the same person listed twice, deaths the
register has not caught up with, and households listed without their head. Rows are chosen so
the problems never overlap, and the originals of duplicates are themselves clean.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vigil.demo.people import REFERENCE_DAY, RELATION_OTHER, BaseChunk
from vigil.registry.citizen_id import PROVINCE_CODES, CitizenIdAllocator
from vigil.registry.text import strip_diacritics

CAPABILITY = "registry"
RULE_CITIZEN_ID = "citizen-id-invalid"
RULE_MISSING = "required-field-missing"
RULE_DUPLICATE = "duplicate-person"
RULE_DECEASED = "deceased-listed"
RULE_NO_HEAD = "household-without-head"
RULES = (RULE_CITIZEN_ID, RULE_MISSING, RULE_DUPLICATE, RULE_DECEASED, RULE_NO_HEAD)

#: Fields every person record must have.
REQUIRED_FIELDS = ("citizen_id", "full_name", "sex", "birth_date", "address")

# Shares of person records (households for the missing head) that carry each problem.
RATES = {
    RULE_CITIZEN_ID: 0.004,
    RULE_MISSING: 0.003,
    RULE_DUPLICATE: 0.003,
    RULE_DECEASED: 0.002,
    RULE_NO_HEAD: 0.005,
}

_ID_PROBLEMS = {
    "length": "citizen ID has the wrong number of digits",
    "not_digits": "citizen ID contains letters",
    "birth_year": "citizen ID encodes another birth year",
    "sex_century": "citizen ID encodes another sex or century",
    "province": "citizen ID starts with a province code that does not exist",
}
# Letters that OCR and tired typists put in place of digits.
_LOOKALIKE = {"0": "O", "1": "I", "2": "Z", "5": "S", "8": "B", "6": "G"}
_UNKNOWN_PROVINCES = tuple(f"{i:03d}" for i in range(100, 120) if f"{i:03d}" not in PROVINCE_CODES)


@dataclass(frozen=True)
class Plant:
    """One planted problem: its rule, the row it is on (or the household), and a note."""

    rule: str
    note: str
    row: int = -1  # row key of the person, for person rules
    household: str = ""  # for household rules
    original: int = -1  # row key of the original record, for duplicates


@dataclass
class PlantedChunk:
    persons: pa.Table  # in household order, without person_id
    keys: np.ndarray  # row key of each row of `persons`
    households: pa.Table
    deaths: pa.Table  # without record_id
    plants: list[Plant]


def _count(rng: np.random.Generator, rate: float, n: int) -> int:
    """rate*n rounded up or down at random, so small chunks still get their share on average."""
    expected = rate * n
    whole = int(expected)
    return whole + int(rng.random() < expected - whole)


def _choose(rng: np.random.Generator, candidates: np.ndarray, k: int) -> np.ndarray:
    k = min(k, len(candidates))
    return np.sort(rng.choice(candidates, size=k, replace=False)) if k else candidates[:0]


def _broken_id(rng: np.random.Generator, cid: str, problem: str) -> str:
    if problem == "length":
        return cid[:-1] if rng.random() < 0.5 else cid + str(int(rng.integers(0, 10)))
    if problem == "not_digits":
        p = int(rng.integers(6, 12))
        return cid[:p] + _LOOKALIKE.get(cid[p], "O") + cid[p + 1 :]
    if problem == "birth_year":
        year = (int(cid[4:6]) + int(rng.integers(1, 10))) % 100
        return f"{cid[:4]}{year:02d}{cid[6:]}"
    if problem == "sex_century":
        return f"{cid[:3]}{int(cid[3]) ^ 1}{cid[4:]}"
    return _UNKNOWN_PROVINCES[int(rng.integers(0, len(_UNKNOWN_PROVINCES)))] + cid[3:]


def _transposed(rng: np.random.Generator, cid: str, ids: CitizenIdAllocator) -> str | None:
    """The ID with two neighbouring random digits swapped, if that makes a new, free number."""
    for p in rng.permutation(np.arange(6, 11)):
        p = int(p)
        if cid[p] != cid[p + 1]:
            swapped = cid[:p] + cid[p + 1] + cid[p] + cid[p + 2 :]
            if not ids.taken(swapped):
                return swapped
    return None


def _replace(
    column: pa.ChunkedArray | pa.Array, rows: np.ndarray, values: Sequence[object]
) -> pa.Array:
    mask = np.zeros(len(column), dtype=bool)
    mask[rows] = True
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    return pc.replace_with_mask(array, pa.array(mask), pa.array(values, array.type))


def _set(table: pa.Table, name: str, column: pa.Array) -> pa.Table:
    return table.set_column(table.schema.get_field_index(name), name, column)


def plant_defects(
    rng: np.random.Generator, base: BaseChunk, ids: CitizenIdAllocator
) -> PlantedChunk:
    persons = base.persons
    n, h = persons.num_rows, base.households.num_rows
    size = np.bincount(base.hh, minlength=h)
    plants: list[Plant] = []
    # People the register already knows are dead keep their consistent records.
    reserved = base.dead.copy()
    household_ids = base.households.column("household_id").to_pylist()

    # Households whose head has vanished from the list.
    with_dead = np.bincount(base.hh, weights=base.dead, minlength=h) > 0
    headless = _choose(
        rng, np.flatnonzero((size >= 2) & ~with_dead), _count(rng, RATES[RULE_NO_HEAD], h)
    )
    in_headless = np.isin(base.hh, headless)
    reserved |= in_headless
    dropped = in_headless & (base.pos == 0)
    for hh in headless:
        plants.append(
            Plant(
                RULE_NO_HEAD,
                f"{size[hh] - 1} members listed, none of them the head (chủ hộ)",
                household=household_ids[hh],
            )
        )

    # Old people who died: a death record exists, the person record still reads as living.
    deceased = _choose(
        rng, np.flatnonzero(~reserved & (base.age >= 60)), _count(rng, RATES[RULE_DECEASED], n)
    )
    reserved[deceased] = True
    died = REFERENCE_DAY - rng.integers(10, 720, size=len(deceased))
    for row, day in zip(deceased, died, strict=True):
        plants.append(
            Plant(
                RULE_DECEASED, f"died {day}; a death record exists, listed as living", row=int(row)
            )
        )

    pool = rng.permutation(np.flatnonzero(~reserved))
    k_id, k_missing, k_dup = (
        _count(rng, RATES[r], n) for r in (RULE_CITIZEN_ID, RULE_MISSING, RULE_DUPLICATE)
    )
    if h < 2:
        k_dup = 0  # a duplicate needs another household to sit in
    invalid = np.sort(pool[:k_id])
    missing = np.sort(pool[k_id : k_id + k_missing])
    sources = np.sort(pool[k_id + k_missing : k_id + k_missing + k_dup])

    # Citizen IDs that cannot be right.
    problems = list(_ID_PROBLEMS)
    kinds = [problems[int(i)] for i in rng.integers(0, len(problems), size=len(invalid))]
    old_ids = persons.column("citizen_id").take(pa.array(invalid)).to_pylist()
    new_ids = [_broken_id(rng, cid, kind) for cid, kind in zip(old_ids, kinds, strict=True)]
    for row, kind in zip(invalid, kinds, strict=True):
        plants.append(Plant(RULE_CITIZEN_ID, _ID_PROBLEMS[kind], row=int(row)))
    persons = _set(persons, "citizen_id", _replace(persons.column("citizen_id"), invalid, new_ids))

    # Required fields left empty.
    fields = np.array(REQUIRED_FIELDS)[rng.integers(0, len(REQUIRED_FIELDS), size=len(missing))]
    for name in REQUIRED_FIELDS:
        rows = missing[fields == name]
        column = persons.column(name)
        persons = _set(persons, name, _replace(column, rows, [None] * len(rows)))
    for row, name in zip(missing, fields, strict=True):
        plants.append(Plant(RULE_MISSING, f"required field {name} is empty", row=int(row)))

    duplicates, targets = _duplicates(rng, base, persons, sources, ids, plants, n)

    # Put the duplicates into their households and drop the vanished heads.
    persons = pa.concat_tables([persons, duplicates])
    hh = np.concatenate([base.hh, targets])
    pos = np.concatenate([base.pos, 100 + np.arange(len(targets))])
    keys = np.arange(persons.num_rows)
    keep = np.flatnonzero(~np.concatenate([dropped, np.zeros(len(targets), dtype=bool)]))
    order = keep[np.lexsort((pos[keep], hh[keep]))]
    persons = persons.take(pa.array(order))
    households = base.households.append_column(
        "members", pa.array(np.bincount(hh[order], minlength=h).astype(np.int32))
    )
    deaths = _deaths(rng, base, deceased, died)
    return PlantedChunk(persons, keys[order], households, deaths, plants)


def _duplicates(
    rng: np.random.Generator,
    base: BaseChunk,
    persons: pa.Table,
    sources: np.ndarray,
    ids: CitizenIdAllocator,
    plants: list[Plant],
    n: int,
) -> tuple[pa.Table, np.ndarray]:
    """Copies of `sources` registered again in another household, with the typos of a clerk."""
    h = base.households.num_rows
    targets = rng.integers(0, max(h - 1, 1), size=len(sources))
    targets[targets >= base.hh[sources]] += 1  # any household but the person's own
    copy = persons.take(pa.array(sources))
    names, births, cids = [], [], []
    for j, (name, birth, cid) in enumerate(
        zip(
            copy.column("full_name").to_pylist(),
            copy.column("birth_date").to_pylist(),
            copy.column("citizen_id").to_pylist(),
            strict=True,
        )
    ):
        changes = []
        style = rng.random()
        swappable = birth.day <= 12 and birth.day != birth.month
        if style < 0.4 or not swappable:
            name = strip_diacritics(name)
            changes.append("name without diacritics")
        if style >= 0.4 and swappable:
            birth = birth.replace(day=birth.month, month=birth.day)
            changes.append("day and month of birth swapped")
        if rng.random() < 0.5 and (swapped := _transposed(rng, cid, ids)) is not None:
            cid = swapped
            changes.append("two digits of the citizen ID transposed")
        changes.append("registered in another household")
        names.append(name)
        births.append(birth)
        cids.append(cid)
        plants.append(
            Plant(
                RULE_DUPLICATE,
                "duplicate of {original}: " + ", ".join(changes),
                row=n + j,
                original=int(sources[j]),
            )
        )
    target_rows = pa.array(targets)
    households = base.households
    keep_phone = pa.array(rng.random(len(sources)) < 0.5)
    columns = {
        "citizen_id": pa.array(cids, pa.string()),
        "full_name": pa.array(names, pa.string()),
        "birth_date": pa.array(births, pa.date32()),
        "village": households.column("village").take(target_rows),
        "household_id": households.column("household_id").take(target_rows),
        "relation_to_head": pa.array([RELATION_OTHER] * len(sources), pa.string()),
        "address": households.column("address").take(target_rows),
        "phone": pc.if_else(
            keep_phone, copy.column("phone").combine_chunks(), pa.nulls(len(sources), pa.string())
        ),
    }
    for name, column in columns.items():
        copy = _set(copy, name, column)
    return copy, targets


def _deaths(
    rng: np.random.Generator, base: BaseChunk, deceased: np.ndarray, died: np.ndarray
) -> pa.Table:
    """Death records from the civil register: the known deaths and the ones not yet applied."""
    known = np.flatnonzero(base.dead)
    rows = np.concatenate([known, deceased])
    day = np.concatenate([base.death[known], died])
    order = np.argsort(rows, kind="stable")
    rows, day = rows[order], day[order]
    registered = np.minimum(day + rng.integers(1, 30, size=len(rows)), REFERENCE_DAY - 1)
    source = base.persons.take(pa.array(rows))
    return pa.table(
        {
            "citizen_id": source.column("citizen_id"),
            "full_name": source.column("full_name"),
            "sex": source.column("sex"),
            "birth_date": source.column("birth_date"),
            "death_date": pa.array(day, pa.date32()),
            "commune": source.column("commune"),
            "registered_on": pa.array(registered, pa.date32()),
        }
    )
