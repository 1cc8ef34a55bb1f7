"""The sources the registry links: its persons, its death records, any table of persons.

Each returns linkage records (`records.linkage_records`): the candidates room turns its
declarations into the same shape with `persons_table(table, id_column)`.
"""

from __future__ import annotations

import pyarrow as pa

from vigil.lake.datasets import Lake
from vigil.registry.datasets import DEATHS, PERSONS
from vigil.registry.linkage.records import linkage_records

_PERSON_COLUMNS = (
    "person_id",
    "full_name",
    "birth_date",
    "sex",
    "citizen_id",
    "commune",
    "village",
    "address",
)


def _select(lake: Lake, dataset: str, columns: tuple[str, ...], where: str) -> pa.Table:
    if not lake.files(dataset):
        return pa.table({c: pa.array([], pa.string()) for c in columns})
    listed = ", ".join(lake.dialect.quote(c) for c in columns)
    return lake.query(f"SELECT {listed} FROM {dataset} WHERE {where}", datasets=[dataset])


def registry_persons(
    lake: Lake, communes: list[str] | None = None, *, living_only: bool = True
) -> pa.Table:
    """The persons of the registry (of `communes`, or all) as linkage records, by person_id.

    `living_only` leaves out persons the registry already records as dead.
    """
    where = ["TRUE"]
    if living_only:
        where.append("death_date IS NULL")
    if communes:
        listed = ", ".join(lake.dialect.literal(c) for c in communes)
        where.append(f"commune IN ({listed})")
    return linkage_records(_select(lake, PERSONS, _PERSON_COLUMNS, " AND ".join(where)))


def death_records(lake: Lake) -> pa.Table:
    """The death records as linkage records, by record_id."""
    columns = ("record_id", "full_name", "birth_date", "sex", "citizen_id", "commune")
    return linkage_records(_select(lake, DEATHS, columns, "TRUE"), "record_id")


def persons_table(table: pa.Table, id_column: str) -> pa.Table:
    """Any table of persons (a `full_name` column and `id_column`; birth_date, sex,
    citizen_id, commune, address when it has them) as linkage records."""
    return linkage_records(table, id_column)
