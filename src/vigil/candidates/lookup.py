"""Finding a declared person in the registry: the one step the check asks of the registry.

First the citizen ID, exactly; a declaration whose ID is wrong, missing or names somebody else
is then looked for by name and birth date (`_by_name_and_birth`). Relatives, declared by name
only, are looked for in the candidate's household first, then anywhere in the registry.
Everything is read from the registry's lake datasets (`population_persons`), filtered in the
lake engine or in Arrow, so the cost grows with the declarations, not with the province.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc

from vigil.candidates.names import fold, fold_column
from vigil.core.errors import ValidationError
from vigil.lake.datasets import Lake

log = logging.getLogger(__name__)

PERSONS = "population_persons"
DEATHS = "population_deaths"
COLUMNS = (
    "person_id",
    "citizen_id",
    "full_name",
    "birth_date",
    "commune",
    "village",
    "household_id",
    "relation_to_head",
    "address",
    "death_date",
)
#: How a person was found.
BY_ID = "citizen_id"
BY_NAME = "name+birth_date"
BY_LINKAGE = "linkage"
#: The probability from which a linked record is taken as the declared person. Below the
#: registry's own (0.9, for merging two records): a declaration that agrees on the full name,
#: the birth date and the commune is the person even when the name is Nguyễn (0.88 in the demo),
#: and each fact is then still compared and shown.
LINK_THRESHOLD = 0.8
#: Fewer persons than this give EM too few pairs to learn from: exact name and birth date then.
MIN_TRAINING_PERSONS = 1_000
#: The model is trained on at most about this many persons (whole communes).
MAX_TRAINING_PERSONS = 200_000


@dataclass(frozen=True)
class RegistryPerson:
    """One person record of the registry, with what the check compares."""

    person_id: str
    citizen_id: str | None = None
    full_name: str | None = None
    birth_date: date | None = None
    commune: str | None = None
    village: str | None = None
    household_id: str | None = None
    relation_to_head: str | None = None
    address: str | None = None
    death_date: date | None = None

    @property
    def name_key(self) -> str:
        return fold(self.full_name or "")


@dataclass(frozen=True)
class Wanted:
    """A person a declaration names: the key it is asked under and what it says of them."""

    key: str
    citizen_id: str | None
    full_name: str
    birth_date: date | None
    commune: str | None
    address: str | None = None


@dataclass(frozen=True)
class Located:
    person: RegistryPerson
    method: str
    probability: float
    #: Each comparison's match weight when found by record linkage.
    explanation: tuple[tuple[str, float], ...] = ()


@dataclass
class RegistrySlice:
    """The registry records a set of declarations can touch: by ID, by name, by household."""

    by_id: dict[str, list[RegistryPerson]]
    by_name: dict[str, list[RegistryPerson]]
    households: dict[str, list[RegistryPerson]]
    deaths: dict[str, date]

    def household(self, household_id: str | None) -> list[RegistryPerson]:
        return self.households.get(household_id or "", [])


def _persons(table: pa.Table) -> list[RegistryPerson]:
    present = set(table.column_names)
    return [
        RegistryPerson(**{c: row.get(c) for c in COLUMNS if c in present})
        for row in table.to_pylist()
    ]


def _select(lake: Lake, where: str, wanted: pa.Table, view: str) -> pa.Table:
    lake.engine.register_arrow(view, wanted)
    columns = ", ".join(f"p.{c}" for c in _available(lake))
    return lake.query(
        f"SELECT {columns} FROM {PERSONS} p JOIN {view} w ON {where}", datasets=[PERSONS]
    )


def _available(lake: Lake) -> list[str]:
    schema = lake.query(f"SELECT * FROM {PERSONS} LIMIT 0", datasets=[PERSONS]).schema
    return [c for c in COLUMNS if c in schema.names]


def load_slice(lake: Lake, citizen_ids: Iterable[str], names: Iterable[str]) -> RegistrySlice:
    """The records whose ID or folded name is asked for, and everyone in their households."""
    empty = RegistrySlice({}, {}, {}, {})
    if not lake.files(PERSONS):
        return empty
    ids = sorted({i for i in citizen_ids if i})
    keys = sorted({fold(n) for n in names if n})
    all_names = lake.query(f"SELECT person_id, full_name FROM {PERSONS}", datasets=[PERSONS])
    folded = fold_column(all_names.column("full_name"))
    hit = pc.fill_null(pc.is_in(folded, pa.array(keys, pa.string())), False)
    by_name_ids = all_names.column("person_id").filter(hit)
    first = pa.concat_tables(
        [
            _select(
                lake,
                "p.citizen_id = w.citizen_id",
                pa.table({"citizen_id": pa.array(ids, pa.string())}),
                "cand_ids",
            ),
            _select(
                lake,
                "p.person_id = w.person_id",
                pa.table(
                    {
                        "person_id": by_name_ids.combine_chunks()
                        if isinstance(by_name_ids, pa.ChunkedArray)
                        else by_name_ids
                    }
                ),
                "cand_names",
            ),
        ]
    )
    households = sorted({h for h in first.column("household_id").to_pylist() if h})
    members = _select(
        lake,
        "p.household_id = w.household_id",
        pa.table({"household_id": pa.array(households, pa.string())}),
        "cand_households",
    )
    found: dict[str, RegistryPerson] = {}
    for person in _persons(first) + _persons(members):
        found.setdefault(person.person_id, person)
    result = RegistrySlice(defaultdict(list), defaultdict(list), defaultdict(list), {})
    for person in found.values():
        if person.citizen_id:
            result.by_id[person.citizen_id].append(person)
        result.by_name[person.name_key].append(person)
        if person.household_id:
            result.households[person.household_id].append(person)
    result.deaths = _deaths(lake, ids)
    return RegistrySlice(
        dict(result.by_id), dict(result.by_name), dict(result.households), result.deaths
    )


def add_persons(lake: Lake, registry: RegistrySlice, person_ids: Iterable[str]) -> None:
    """Put these persons and everyone in their households into the slice (a person linked by
    other means than the slice's ID and name keys)."""
    wanted = sorted(set(person_ids))
    if not wanted or not lake.files(PERSONS):
        return
    ids = pa.table({"person_id": pa.array(wanted, pa.string())})
    people = _persons(_select(lake, "p.person_id = w.person_id", ids, "cand_linked"))
    households = sorted({p.household_id for p in people if p.household_id})
    homes = pa.table({"household_id": pa.array(households, pa.string())})
    members = _persons(_select(lake, "p.household_id = w.household_id", homes, "cand_linked_hh"))
    known = {p.person_id for group in registry.households.values() for p in group}
    known |= {p.person_id for group in registry.by_name.values() for p in group}
    for person in people + members:
        if person.person_id in known:
            continue
        known.add(person.person_id)
        if person.citizen_id:
            registry.by_id.setdefault(person.citizen_id, []).append(person)
        registry.by_name.setdefault(person.name_key, []).append(person)
        if person.household_id:
            registry.households.setdefault(person.household_id, []).append(person)


def _deaths(lake: Lake, ids: list[str]) -> dict[str, date]:
    if not lake.files(DEATHS) or not ids:
        return {}
    lake.engine.register_arrow(
        "cand_death_ids", pa.table({"citizen_id": pa.array(ids, pa.string())})
    )
    table = lake.query(
        f"SELECT d.citizen_id, d.death_date FROM {DEATHS} d "
        "JOIN cand_death_ids w ON d.citizen_id = w.citizen_id",
        datasets=[DEATHS],
    )
    return {r["citizen_id"]: r["death_date"] for r in table.to_pylist() if r["death_date"]}


def _agrees(person: RegistryPerson, wanted: Wanted) -> tuple[bool, bool]:
    return person.name_key == fold(wanted.full_name), person.birth_date == wanted.birth_date


def _swapped(day: date | None) -> date | None:
    if day is None or day.day > 12:
        return None
    try:
        return day.replace(day=day.month, month=day.day)
    except ValueError:
        return None


def _by_name_and_birth(registry: RegistrySlice, wanted: Wanted) -> Located | None:
    """The record with the same folded name and birth date (or day and month swapped), the one
    in the declared commune first; None when none, or when two equally good ones remain."""
    swapped = _swapped(wanted.birth_date)
    scored = []
    for person in registry.by_name.get(fold(wanted.full_name), []):
        if person.birth_date == wanted.birth_date:
            score = 2.0
        elif swapped is not None and person.birth_date == swapped:
            score = 1.0
        else:
            continue
        if wanted.commune and person.commune == wanted.commune:
            score += 0.5
        scored.append((score, person))
    if not scored:
        return None
    scored.sort(key=lambda s: (-s[0], s[1].person_id))
    if len(scored) > 1 and scored[0][0] == scored[1][0]:
        return None  # two namesakes born the same day: the declaration does not say which
    return Located(scored[0][1], BY_NAME, round(min(1.0, scored[0][0] / 2.5), 3))


def locate_by_id(registry: RegistrySlice, wanted: Wanted) -> Located | None:
    """The record of the declared citizen ID, if it agrees on the name or the birth date (an ID
    whose record agrees on neither names somebody else)."""
    if not wanted.citizen_id:
        return None
    records = registry.by_id.get(wanted.citizen_id, [])
    ranked = sorted(records, key=lambda p: (-sum(_agrees(p, wanted)), p.person_id))
    if ranked and any(_agrees(ranked[0], wanted)):
        return Located(ranked[0], BY_ID, 1.0)
    return None


#: Finds, for declarations the ID did not place, their records: (lake, slice, wanted) -> by key.
Linker = Callable[[Lake, RegistrySlice, list[Wanted]], dict[str, Located]]


def link_by_name_and_birth(
    lake: Lake, registry: RegistrySlice, wanted: list[Wanted]
) -> dict[str, Located]:
    """Exact folded name and birth date (or day and month swapped), over the slice."""
    found = {w.key: _by_name_and_birth(registry, w) for w in wanted}
    return {k: v for k, v in found.items() if v is not None}


def locate_all(
    lake: Lake, registry: RegistrySlice, wanted: list[Wanted], linker: Linker
) -> dict[str, Located | None]:
    """Where the registry has each declared person: by citizen ID first, then by `linker` for
    the declarations with a wrong, missing or somebody else's ID."""
    found: dict[str, Located | None] = {w.key: locate_by_id(registry, w) for w in wanted}
    rest = [w for w in wanted if found[w.key] is None]
    if rest:
        found.update(linker(lake, registry, rest))
    return found


def _declared_table(wanted: list[Wanted]) -> pa.Table:
    """What linkage compares of each declaration: name, birth date and commune. The
    declared citizen ID is left out: it is what already failed to place these persons, and a
    wrong ID would weigh against the very record it was mistyped from."""
    return pa.table(
        {
            "candidate_id": pa.array([w.key for w in wanted], pa.string()),
            "full_name": pa.array([w.full_name for w in wanted], pa.string()),
            "birth_date": pa.array([w.birth_date for w in wanted], pa.date32()),
            "commune": pa.array([w.commune for w in wanted], pa.string()),
        }
    )


def _training_sample(persons: pa.Table) -> pa.Table:
    """Whole communes, in code order, up to MAX_TRAINING_PERSONS: what the model learns from.
    Whole communes keep a commune's duplicates together (EM learns from the pairs they make),
    and the cost of training stops growing with the province."""
    if persons.num_rows <= MAX_TRAINING_PERSONS:
        return persons
    counts = pc.value_counts(persons.column("commune")).to_pylist()
    sizes = sorted((c["values"] or "", c["counts"]) for c in counts)
    kept: list[str] = []
    total = 0
    for commune, size in sizes:
        if kept and total + size > MAX_TRAINING_PERSONS:
            break
        kept.append(commune)
        total += size
    return persons.filter(pc.is_in(persons.column("commune"), pa.array(kept, pa.string())))


def link_then_exact(
    lake: Lake, registry: RegistrySlice, wanted: list[Wanted]
) -> dict[str, Located]:
    """The registry's linkage, then exact name and birth date for what it did not place."""
    found = link_with_registry(lake, registry, wanted)
    rest = [w for w in wanted if w.key not in found]
    return found | link_by_name_and_birth(lake, registry, rest)


def link_with_registry(
    lake: Lake, registry: RegistrySlice, wanted: list[Wanted]
) -> dict[str, Located]:
    """The registry's record linkage (Splink, trained without labels on the registry itself):
    each declaration's most probable record at or above the linkage's threshold, with the
    match weight of each comparison. Persons recorded as dead are linked too (a candidate the
    registry records as dead is a finding, not a person not found)."""
    from splink.internals.exceptions import SplinkException

    from vigil.registry.linkage.link import link, train
    from vigil.registry.linkage.sources import persons_table, registry_persons

    if not wanted or lake.rows(PERSONS) < MIN_TRAINING_PERSONS:
        return {}
    persons = registry_persons(lake, living_only=False)
    declared = persons_table(_declared_table(wanted), "candidate_id")
    loggers = [logging.getLogger(n) for n in ("splink", "splink.internals")]
    levels = [lg.level for lg in loggers]
    # Splink warns of every level it could not train; a check's output is about candidates.
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        model = train(_training_sample(persons), lake.engine)
        pairs = link(persons, declared, model, lake.engine, threshold=LINK_THRESHOLD)
    except (SplinkException, ValidationError) as e:
        # A registry too small or too clean to train on without labels (no record shares an ID
        # with another): the exact name and birth date are all there is to go on.
        log.warning("record linkage not trained (%s); exact name and birth date used", e)
        return {}
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
    best: dict[str, tuple[float, str, tuple[tuple[str, float], ...]]] = {}
    for pair in pairs:
        ranked = (pair.probability, pair.left, tuple(sorted(pair.explanation.items())))
        if pair.right not in best or ranked[:2] > best[pair.right][:2]:
            best[pair.right] = ranked
    add_persons(lake, registry, [left for _p, left, _e in best.values()])
    by_person = {p.person_id: p for group in registry.by_name.values() for p in group}
    return {
        key: Located(by_person[left], BY_LINKAGE, round(probability, 4), explanation)
        for key, (probability, left, explanation) in best.items()
        if left in by_person
    }
