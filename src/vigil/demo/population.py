"""The demo population: persons, households and death records of every commune, in the lake.

Written in chunks of at most CHUNK_PERSONS people, each its own lake batch, so three million
people fit in a few hundred megabytes. Each chunk has its own random stream derived from (seed,
commune, part), so the same seed gives byte-identical Parquet files.

Datasets: `population_persons`, `population_households`, `population_deaths`,
`population_moves` (demo/moves.py: moves between households, with the voter-list anomalies).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vigil.core.errors import ValidationError
from vigil.core.units import UnitKind
from vigil.demo.defects import CAPABILITY, PlantedChunk, plant_defects
from vigil.demo.moves import MOVE_SCHEMA, MOVES_DATASET, MovedChunk, plant_moves
from vigil.demo.people import CommuneFrame, draw_chunk
from vigil.demo.province import COMMUNES
from vigil.plugins import DemoContext
from vigil.registry.citizen_id import CitizenIdAllocator
from vigil.registry.voters.anomalies import REMOVAL_BURST, deployment_rules

PERSONS = "population_persons"
HOUSEHOLDS = "population_households"
DEATHS = "population_deaths"
CHUNK_PERSONS = 250_000
MIN_PERSONS = 100
BATCH_PREFIX = "demo"

PERSON_SCHEMA = pa.schema(
    [
        ("person_id", pa.string()),
        ("citizen_id", pa.string()),
        ("full_name", pa.string()),
        ("sex", pa.string()),
        ("birth_date", pa.date32()),
        ("ethnicity", pa.string()),
        ("commune", pa.string()),
        ("village", pa.string()),
        ("household_id", pa.string()),
        ("relation_to_head", pa.string()),
        ("address", pa.string()),
        ("phone", pa.string()),
        ("death_date", pa.date32()),
    ]
)
HOUSEHOLD_SCHEMA = pa.schema(
    [
        ("household_id", pa.string()),
        ("commune", pa.string()),
        ("village", pa.string()),
        ("address", pa.string()),
        ("registered_on", pa.date32()),
        ("members", pa.int32()),
    ]
)
DEATH_SCHEMA = pa.schema(
    [
        ("record_id", pa.string()),
        ("citizen_id", pa.string()),
        ("full_name", pa.string()),
        ("sex", pa.string()),
        ("birth_date", pa.date32()),
        ("death_date", pa.date32()),
        ("commune", pa.string()),
        ("registered_on", pa.date32()),
    ]
)

#: Called as progress(done, total) with numbers of persons.
Progress = Callable[[int, int], None]


@dataclass
class PopulationResult:
    persons: int = 0
    households: int = 0
    deaths: int = 0
    moves: int = 0
    batches: int = 0
    planted: Counter[str] = field(default_factory=Counter)


def commune_frames(ctx: DemoContext) -> list[tuple[CommuneFrame, float]]:
    """Each commune of the deployment with its share of the people."""
    units = ctx.deployment.units
    specs = {spec.code: spec for spec in COMMUNES}
    frames = []
    for unit in sorted(units.of_kind(UnitKind.COMMUNE), key=lambda u: u.code):
        villages = sorted(
            (u for u in units.children(unit.code) if u.kind == UnitKind.VILLAGE),
            key=lambda u: u.code,
        )
        if not villages:
            raise ValidationError(f"commune {unit.code} has no villages to put households in")
        spec = specs.get(unit.code)
        frame = CommuneFrame(
            code=unit.code,
            name_vi=unit.name_vi,
            province_vi=units.root.name_vi,
            village_codes=tuple(v.code for v in villages),
            village_names=tuple(v.name_vi for v in villages),
            highland=spec.highland if spec else False,
        )
        frames.append((frame, spec.weight if spec else 1.0))
    if not frames:
        raise ValidationError("the province has no communes")
    return frames


def split_persons(total: int, weights: list[float]) -> list[int]:
    """Largest-remainder split of `total` people by weight: exact and deterministic."""
    w = np.asarray(weights, dtype=np.float64)
    exact = total * w / w.sum()
    counts = np.floor(exact).astype(np.int64)
    short = total - int(counts.sum())
    counts[np.argsort(-(exact - counts), kind="stable")[:short]] += 1
    return [int(c) for c in counts]


def _ids(prefix: str, first: int, n: int) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(np.arange(first, first + n)), pa.string()), 8, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def generate_population(ctx: DemoContext, progress: Progress | None = None) -> PopulationResult:
    """Write ctx.persons people into the lake and plant the registry's problems in ctx's truth."""
    if ctx.persons < MIN_PERSONS:
        raise ValidationError(f"the demo needs at least {MIN_PERSONS} persons, not {ctx.persons}")
    frames = commune_frames(ctx)
    counts = split_persons(ctx.persons, [w for _, w in frames])
    lake = ctx.deployment.lake
    ids = CitizenIdAllocator(ctx.seed)
    result = PopulationResult()
    removal = deployment_rules(ctx.deployment)[REMOVAL_BURST]
    next_person, next_household, next_death, next_move, done = 1, 1, 1, 1, 0
    for index, ((frame, _), count) in enumerate(zip(frames, counts, strict=True)):
        parts = max(1, -(-count // CHUNK_PERSONS))
        for part, size in enumerate(split_persons(count, [1.0] * parts)):
            rng = np.random.default_rng([ctx.seed, index, part])
            chunk = plant_defects(rng, draw_chunk(rng, size, frame, next_household, ids), ids)
            person_ids = _ids("NK", next_person, chunk.persons.num_rows)
            _plant(ctx, frame.code, chunk, person_ids, result.planted)
            moved = plant_moves(
                np.random.default_rng([ctx.seed, index, part, 7]), chunk, person_ids, index, part,
                removal,
            )  # fmt: skip
            for rule, subject, note in moved.plants:
                ctx.plant(capability=CAPABILITY, rule=rule, subject=subject, unit=frame.code,
                          note=note)  # fmt: skip
                result.planted[rule] += 1
            batch = f"{BATCH_PREFIX}-{result.batches:04d}"
            lake.write(PERSONS, _persons_table(moved.persons, person_ids), batch)
            lake.write(HOUSEHOLDS, _households_table(chunk, moved), batch)
            moves = moved.moves.add_column(
                0, "move_id", _ids("CD", next_move, moved.moves.num_rows)
            )
            lake.write(MOVES_DATASET, moves.cast(MOVE_SCHEMA), batch)
            next_move += moves.num_rows
            result.moves += moves.num_rows
            deaths = chunk.deaths.add_column(
                0, "record_id", _ids("KT", next_death, chunk.deaths.num_rows)
            )
            lake.write(DEATHS, deaths.cast(DEATH_SCHEMA), batch)
            next_person += chunk.persons.num_rows
            next_household += chunk.households.num_rows
            next_death += chunk.deaths.num_rows
            result.persons += chunk.persons.num_rows
            result.households += chunk.households.num_rows
            result.deaths += chunk.deaths.num_rows
            result.batches += 1
            done += size
            if progress:
                progress(done, ctx.persons)
    return result


def _persons_table(persons: pa.Table, person_ids: pa.Array) -> pa.Table:
    return (
        persons.add_column(0, "person_id", person_ids)
        .select(PERSON_SCHEMA.names)
        .cast(PERSON_SCHEMA)
    )


def _households_table(chunk: PlantedChunk, moved: MovedChunk) -> pa.Table:
    """The chunk's households, their members counted again after the moves (same order)."""
    ids = chunk.households.column("household_id").to_pylist()
    index = {hid: i for i, hid in enumerate(ids)}
    rows = [index[h] for h in moved.persons.column("household_id").to_pylist() if h in index]
    members = np.bincount(np.array(rows, dtype=np.int64), minlength=len(ids)).astype(np.int32)
    households = chunk.households.set_column(
        chunk.households.schema.get_field_index("members"), "members", pa.array(members)
    )
    return households.select(HOUSEHOLD_SCHEMA.names).cast(HOUSEHOLD_SCHEMA)


def _plant(
    ctx: DemoContext, unit: str, chunk: PlantedChunk, person_ids: pa.Array, tally: Counter[str]
) -> None:
    """Name each planted problem by its final person or household id, in planting order."""
    position = np.full(int(chunk.keys.max(initial=-1)) + 1, -1, dtype=np.int64)
    position[chunk.keys] = np.arange(len(chunk.keys))

    def person(row: int) -> str:
        return str(person_ids[int(position[row])].as_py())

    for plant in chunk.plants:
        subject = plant.household or person(plant.row)
        note = (
            plant.note.format(original=person(plant.original))
            if plant.original >= 0
            else plant.note
        )
        ctx.plant(capability=CAPABILITY, rule=plant.rule, subject=subject, unit=unit, note=note)
        tally[plant.rule] += 1
