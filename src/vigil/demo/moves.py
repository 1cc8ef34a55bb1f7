"""Moves between households in the demo population, and the voter-list anomalies planted in them.

Background (clean) moves: about 1 % of people moved alone into the household they live in now,
and about 0.3 % of households (2 to 5 people) moved in together from one household, at some day
of the last four years. They leave the person records as they are: the records already show
where the people live.

Planted, each with its ground truth (capability `registry`):
- `voter-move-burst` in every third commune: six people from six households moved into one
  household within ten days (their records now list them there);
- `voter-removal-burst` in two communes: enough people to pass the rule's thresholds moved out of
  one village, each to a household of another village, on one day.

People in a problem the registry rules plant (and the originals of duplicates), heads of
households, the dead and households planted without a head are never moved, so no other rule
changes its answer. Each chunk draws from its own random stream, so the registry's own plants are
the same as without moves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vigil.demo.defects import PlantedChunk
from vigil.demo.people import REFERENCE_DAY, RELATION_HEAD, RELATION_OTHER
from vigil.registry.datasets import MOVES, SCHEMAS
from vigil.registry.voters.anomalies import MOVE_BURST, REMOVAL_BURST, AnomalyRule

# The registry's own dataset and layout: `vigil registry import --kind moves` writes the same.
MOVES_DATASET = MOVES
MOVE_SCHEMA = SCHEMAS["moves"]
ALONE_SHARE = 0.01
FAMILY_SHARE = 0.003
BURST_PERSONS = 6
BURST_EVERY = 3  # communes: the first of every three gets a move burst
REMOVAL_COMMUNES = (1, 8)  # indexes of the communes that get a removal burst
_TODAY = date.fromisoformat(str(REFERENCE_DAY))


@dataclass
class MovedChunk:
    persons: pa.Table
    #: One row per move, without move_id; in the order drawn.
    moves: pa.Table
    #: (rule, subject, note) of each planted anomaly.
    plants: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class _Moves:
    rows: list[int] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    targets: list[int] = field(default_factory=list)  # household index
    days: list[date] = field(default_factory=list)

    def add(self, row: int, source: str, target: int, day: date) -> None:
        self.rows.append(row)
        self.sources.append(source)
        self.targets.append(target)
        self.days.append(day)


def _movable(chunk: PlantedChunk) -> np.ndarray:
    """Rows that may move: alive, not a head, in no planted problem, not in a headless house."""
    persons = chunk.persons
    planted = {p.row for p in chunk.plants} | {p.original for p in chunk.plants}
    headless = {p.household for p in chunk.plants if p.household}
    alive = pc.is_null(persons.column("death_date")).to_numpy(zero_copy_only=False)
    head = pc.equal(persons.column("relation_to_head"), RELATION_HEAD)
    head = pc.fill_null(head, False).to_numpy(zero_copy_only=False)
    in_headless = pc.is_in(
        persons.column("household_id"), value_set=pa.array(sorted(headless), pa.string())
    )
    in_headless = pc.fill_null(in_headless, False).to_numpy(zero_copy_only=False)
    movable: np.ndarray = alive & ~head & ~in_headless
    return movable & ~np.isin(chunk.keys, np.array(sorted(planted)))


def plant_moves(
    rng: np.random.Generator,
    chunk: PlantedChunk,
    person_ids: pa.Array,
    index: int,
    part: int,
    removal: AnomalyRule,
) -> MovedChunk:
    """Background moves and, in some communes, the planted bursts (see the module)."""
    persons, households = chunk.persons, chunk.households
    h = households.num_rows
    hh_ids = households.column("household_id").to_numpy(zero_copy_only=False)
    hh_village = households.column("village").to_numpy(zero_copy_only=False)
    found = pc.index_in(persons.column("household_id"), value_set=households.column("household_id"))
    row_h = pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    movable = _movable(chunk) & (row_h >= 0)
    moves, relocated = _Moves(), _Moves()
    plants: list[tuple[str, str, str]] = []
    if h < 8:
        return MovedChunk(persons, _moves_table(persons, person_ids, households, moves), plants)
    _background(rng, movable, row_h, hh_ids, h, moves)
    if part == 0 and index % BURST_EVERY == 0:
        plants.append(_move_burst(rng, movable, row_h, hh_ids, relocated))
    if part == 0 and index in REMOVAL_COMMUNES:
        plant = _removal_burst(rng, movable, row_h, hh_ids, hh_village, persons, removal, relocated)
        if plant:
            plants.append(plant)
    persons = _relocate(persons, households, relocated)
    for row, source, target, day in zip(
        relocated.rows, relocated.sources, relocated.targets, relocated.days, strict=True
    ):
        moves.add(row, source, target, day)
    return MovedChunk(persons, _moves_table(persons, person_ids, households, moves), plants)


def _background(
    rng: np.random.Generator, movable: np.ndarray, row_h: np.ndarray, hh_ids: np.ndarray,
    h: int, moves: _Moves,
) -> None:  # fmt: skip
    """People who moved alone, and small families who moved together, years ago."""
    candidates = np.flatnonzero(movable)
    alone = rng.choice(candidates, size=min(len(candidates), int(ALONE_SHARE * len(row_h))),
                       replace=False) if len(candidates) else candidates  # fmt: skip
    for row in np.sort(alone):
        source = int(rng.integers(0, h - 1))
        source += source >= row_h[row]
        moves.add(int(row), str(hh_ids[source]), int(row_h[row]), _past(rng))
    size = np.bincount(row_h[row_h >= 0], minlength=h)
    families = np.flatnonzero((size >= 2) & (size <= 5))
    chosen = rng.choice(families, size=min(len(families), int(FAMILY_SHARE * h)), replace=False)
    for target in np.sort(chosen):
        source = int(rng.integers(0, h - 1))
        source += source >= target
        day = _past(rng)
        for row in np.flatnonzero(row_h == target):
            moves.add(int(row), str(hh_ids[source]), int(target), day)


def _past(rng: np.random.Generator) -> date:
    return _TODAY - timedelta(days=int(rng.integers(60, 1460)))


def _move_burst(
    rng: np.random.Generator, movable: np.ndarray, row_h: np.ndarray, hh_ids: np.ndarray,
    relocated: _Moves,
) -> tuple[str, str, str]:  # fmt: skip
    """BURST_PERSONS people, one from each of as many households, into one household."""
    h = len(hh_ids)
    target = int(rng.integers(0, h))
    order = rng.permutation(np.flatnonzero(movable & (row_h != target)))
    seen: set[int] = set()
    start = _TODAY - timedelta(days=20)
    for row in order:
        if int(row_h[row]) in seen:
            continue
        seen.add(int(row_h[row]))
        movable[row] = False
        relocated.add(int(row), str(hh_ids[row_h[row]]), target,
                      start + timedelta(days=int(rng.integers(0, 10))))  # fmt: skip
        if len(seen) == BURST_PERSONS:
            break
    note = f"{len(seen)} people from {len(seen)} households moved in within 10 days"
    return MOVE_BURST, str(hh_ids[target]), note


def _removal_burst(
    rng: np.random.Generator, movable: np.ndarray, row_h: np.ndarray, hh_ids: np.ndarray,
    hh_village: np.ndarray, persons: pa.Table, rule: AnomalyRule, relocated: _Moves,
) -> tuple[str, str, str] | None:  # fmt: skip
    """Enough people to pass the rule's thresholds leave one village on one day."""
    villages = sorted(set(hh_village.tolist()))
    if len(villages) < 2:
        return None
    village = villages[int(rng.integers(0, len(villages)))]
    alive = pc.is_null(persons.column("death_date")).to_numpy(zero_copy_only=False)
    in_village = hh_village[np.maximum(row_h, 0)] == village
    listed = int((alive & in_village & (row_h >= 0)).sum())
    need = max(int(rule.thresholds["min_removals"]),
               math.ceil(rule.thresholds["min_share"] * listed)) + 1  # fmt: skip
    pool = np.flatnonzero(movable & in_village)
    elsewhere = np.flatnonzero(hh_village != village)
    if len(pool) < need or len(elsewhere) < need:
        return None
    day = _TODAY - timedelta(days=5)
    rows = np.sort(rng.choice(pool, size=need, replace=False))
    targets = rng.choice(elsewhere, size=need, replace=False)
    for row, target in zip(rows, targets, strict=True):
        movable[row] = False
        relocated.add(int(row), str(hh_ids[row_h[row]]), int(target), day)
    note = f"{need} of {listed} people moved out of the village on {day.isoformat()}"
    return REMOVAL_BURST, f"{village}@{day.isoformat()}", note


def _relocate(persons: pa.Table, households: pa.Table, moved: _Moves) -> pa.Table:
    """The moved people's records now list them in their new household."""
    if not moved.rows:
        return persons
    rows = np.array(moved.rows)
    targets = pa.array(moved.targets, pa.int64())
    mask = np.zeros(persons.num_rows, dtype=bool)
    mask[rows] = True
    order = np.argsort(rows)  # replace_with_mask fills in row order
    for name, values in (
        ("household_id", households.column("household_id").take(targets)),
        ("village", households.column("village").take(targets)),
        ("address", households.column("address").take(targets)),
        ("relation_to_head", pa.array([RELATION_OTHER] * len(rows), pa.string())),
    ):
        column = persons.column(name).combine_chunks()
        values = values.take(pa.array(order))
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        replaced = pc.replace_with_mask(column, pa.array(mask), values)
        persons = persons.set_column(persons.schema.get_field_index(name), name, replaced)
    return persons


def _moves_table(
    persons: pa.Table, person_ids: pa.Array, households: pa.Table, moves: _Moves
) -> pa.Table:
    targets = pa.array(moves.targets, pa.int64())
    return pa.table(
        {
            "person_id": person_ids.take(pa.array(moves.rows, pa.int64())),
            "from_household_id": pa.array(moves.sources, pa.string()),
            "household_id": households.column("household_id").take(targets),
            "commune": households.column("commune").take(targets),
            "village": households.column("village").take(targets),
            "moved_on": pa.array(moves.days, pa.date32()),
        }
    )
