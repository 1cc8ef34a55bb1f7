"""Who is on a commune's voter list, and in which polling area.

A person is a voter of commune C when the registry lists them in C (a person record of C without
a death date), no death record names their citizen ID, and they are 18 or older on voting day
(the deployment's election calendar, in the province's time): born on or before the same day 18
years earlier. A birthday on 29 February counts from 1 March in a year without one, so for a
voting day of 28 February the cutoff is 28 February and someone born on 29 February of that year
waits one more day. A person without a birth date cannot be shown to be of age and is left off
(counted). When two listed records carry one citizen ID, the first by person id is kept and the
other is left off (counted as `same_citizen_id`); the quality rules report both.

Polling areas: the registry has no polling-area column, so by default each village (thôn) or
residential group (tổ dân phố) is one polling area, named by the village's code; a person
without a village goes to `<commune>-unassigned`. A mapping file (CSV with the columns
`village,polling_area`) assigns villages to other areas instead; a village the mapping does
not name keeps its own code.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pyarrow as pa

from vigil.core.clock import local_day
from vigil.core.errors import Location
from vigil.deployment import Deployment
from vigil.lake.engine import LakeEngine
from vigil.registry.datasets import DEATHS, HOUSEHOLDS, MOVES, PERSONS, SCHEMAS
from vigil.registry.errors import RegistryError

VOTING_AGE = 18
DEFAULT_RULE = "village"


def born_by(voting_day: date, age: int = VOTING_AGE) -> date:
    """The last birth date of someone `age` or older on `voting_day`."""
    try:
        return voting_day.replace(year=voting_day.year - age)
    except ValueError:  # voting on 29 February: 18 years earlier has none
        return date(voting_day.year - age, 2, 28)


def voting_day(deployment: Deployment) -> date:
    """Voting day in the province's calendar (vigil.toml, [calendar] voting_day)."""
    return local_day(deployment.calendar.voting_day)


def unassigned_area(commune: str) -> str:
    return f"{commune}-unassigned"


@dataclass(frozen=True)
class PollingAreas:
    """Village code -> polling area; villages not named are their own area."""

    rule: str = DEFAULT_RULE
    mapping: dict[str, str] = field(default_factory=dict)

    def area(self, commune: str, village: str | None) -> str:
        if not village:
            return unassigned_area(commune)
        return self.mapping.get(village, village)


def load_areas(path: Path | None) -> PollingAreas:
    """The polling areas of a CSV mapping (`village,polling_area`), or one area per village."""
    if path is None:
        return PollingAreas()
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or {"village", "polling_area"} - set(reader.fieldnames):
                raise RegistryError(
                    "a polling-area mapping needs the columns village,polling_area",
                    location=Location(str(path), 1),
                )
            mapping: dict[str, str] = {}
            for line, row in enumerate(reader, start=2):
                village, area = (row["village"] or "").strip(), (row["polling_area"] or "").strip()
                if not village or not area or len(area) > 64:
                    raise RegistryError(
                        "empty village or polling area (or an area over 64 characters)",
                        location=Location(str(path), line),
                    )
                if mapping.get(village, area) != area:
                    raise RegistryError(
                        f"village {village} is mapped to two polling areas",
                        location=Location(str(path), line),
                    )
                mapping[village] = area
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise RegistryError(f"cannot read the mapping: {e}", location=Location(str(path))) from e
    return PollingAreas(rule=path.name[:200], mapping=mapping)


def register_sources(deployment: Deployment) -> LakeEngine:
    """The registry's datasets as the views voter_persons, voter_deaths, voter_moves and
    voter_households (an empty table when a dataset has no batch yet)."""
    lake = deployment.lake
    engine = lake.engine
    for view, dataset, kind in (
        ("voter_persons", PERSONS, "persons"),
        ("voter_deaths", DEATHS, "deaths"),
        ("voter_moves", MOVES, "moves"),
        ("voter_households", HOUSEHOLDS, "households"),
    ):
        files = lake.files(dataset)
        if files:
            engine.register(view, files)
        else:
            engine.register_arrow(view, SCHEMAS[kind].empty_table())
    return engine


#: Listed living persons with their standing: one row per person record of the commune.
_STANDING_SQL = """
WITH listed AS (
  SELECT p.*,
    row_number() OVER (
      PARTITION BY CASE WHEN p.citizen_id IS NULL OR p.citizen_id = '' THEN p.person_id
                        ELSE p.citizen_id END
      ORDER BY p.person_id) AS id_rank
  FROM voter_persons AS p WHERE p.death_date IS NULL
)
SELECT l.commune, l.person_id, l.citizen_id, l.full_name, l.sex, l.birth_date, l.village,
  l.household_id,
  CASE WHEN l.birth_date IS NULL THEN 'no_birth_date'
       WHEN EXISTS (SELECT 1 FROM voter_deaths AS d WHERE d.citizen_id = l.citizen_id)
         THEN 'death_record'
       WHEN l.birth_date > $born_by THEN 'under_age'
       WHEN l.id_rank > 1 THEN 'same_citizen_id'
  END AS left_off
FROM listed AS l
WHERE l.commune IN ({communes})
ORDER BY l.commune, l.person_id
"""


def standing(engine: LakeEngine, communes: list[str], cutoff: date) -> pa.Table:
    """Every listed living person of `communes` with their commune: `left_off` is null for a
    voter, else why they are not one. One pass over the registry for all the communes."""
    if not communes:
        raise RegistryError("no commune to build a voter list for")
    listed = ", ".join(engine.dialect.literal(c) for c in communes)
    return engine.query(_STANDING_SQL.replace("{communes}", listed), {"born_by": cutoff})
