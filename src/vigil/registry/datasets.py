"""The lake datasets of the registry (the demo writes the first three in the same shape)."""

from __future__ import annotations

import pyarrow as pa

PERSONS = "population_persons"
HOUSEHOLDS = "population_households"
DEATHS = "population_deaths"
MOVES = "population_moves"


#: The columns of each kind of extract, as the lake keeps them (the demo writes the same).
SCHEMAS: dict[str, pa.Schema] = {
    "persons": pa.schema(
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
    ),
    "households": pa.schema(
        [
            ("household_id", pa.string()),
            ("commune", pa.string()),
            ("village", pa.string()),
            ("address", pa.string()),
            ("registered_on", pa.date32()),
            ("members", pa.int32()),
        ]
    ),
    "deaths": pa.schema(
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
    ),
    "moves": pa.schema(
        [
            ("move_id", pa.string()),
            ("person_id", pa.string()),
            ("from_household_id", pa.string()),
            ("household_id", pa.string()),
            ("commune", pa.string()),
            ("village", pa.string()),
            ("moved_on", pa.date32()),
        ]
    ),
}
DATASETS = {"persons": PERSONS, "households": HOUSEHOLDS, "deaths": DEATHS, "moves": MOVES}
#: The column that identifies a record of each kind (a row without it is quarantined).
KEYS = {
    "persons": "person_id",
    "households": "household_id",
    "deaths": "record_id",
    "moves": "move_id",
}
