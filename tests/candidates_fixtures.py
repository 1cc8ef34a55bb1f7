"""A small registry and declarations for the candidates room's tests (test province P01)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pyarrow as pa

from vigil.deployment import Deployment

ADDRESS_1 = "Số 12, Thôn Đông, Xã Hòa An, Tỉnh Thử"
ADDRESS_2 = "Số 7, Thôn Tây, Xã Phú Lộc, Tỉnh Thử"

#: (person_id, citizen_id, full_name, birth_date, commune, household, relation, address, death)
PEOPLE: list[tuple[Any, ...]] = [
    (
        "NK1",
        "046080000001",
        "Nguyễn Văn An",
        date(1980, 5, 12),
        "C01",
        "HK1",
        "chủ hộ",
        ADDRESS_1,
        None,
    ),
    ("NK2", "046182000002", "Trần Thị Bình", date(1982, 3, 2), "C01", "HK1", "vợ", ADDRESS_1, None),
    (
        "NK3",
        "046005000003",
        "Nguyễn Văn Cường",
        date(2005, 1, 20),
        "C01",
        "HK1",
        "con",
        ADDRESS_1,
        None,
    ),
    (
        "NK4",
        "046110000004",
        "Nguyễn Thị Dung",
        date(2010, 8, 30),
        "C01",
        "HK1",
        "con",
        ADDRESS_1,
        None,
    ),
    (
        "NK5",
        "046150000005",
        "Nguyễn Văn Em",
        date(1950, 2, 1),
        "C01",
        "HK1",
        "cha",
        ADDRESS_1,
        None,
    ),
    (
        "NK6",
        "046075000006",
        "Lê Văn Giang",
        date(1975, 11, 5),
        "C02",
        "HK2",
        "chủ hộ",
        ADDRESS_2,
        None,
    ),
    (
        "NK7",
        "046040000007",
        "Phạm Văn Hùng",
        date(1940, 4, 4),
        "C02",
        "HK3",
        "chủ hộ",
        ADDRESS_2,
        date(2025, 6, 1),
    ),
]


def write_registry(dep: Deployment) -> None:
    cols = list(zip(*PEOPLE, strict=True))
    names = [
        "person_id",
        "citizen_id",
        "full_name",
        "birth_date",
        "commune",
        "household_id",
        "relation_to_head",
        "address",
        "death_date",
    ]
    table = pa.table(
        {
            n: pa.array(c, pa.date32() if n in ("birth_date", "death_date") else pa.string())
            for n, c in zip(names, cols, strict=True)
        }
    )
    sexes = ["Nam", "Nữ", "Nam", "Nữ", "Nam", "Nam", "Nam"]
    table = table.append_column("sex", pa.array(sexes, pa.string()))
    dep.lake.write("population_persons", table, "test-0000")


HEADER = "candidate_id,full_name,birth_date,citizen_id,commune,address,spouse,parents,children"
#: A truthful declaration of NK1: everything as the registry records it.
CLEAN = {
    "candidate_id": "UCV-1",
    "full_name": "Nguyễn Văn An",
    "birth_date": "12/05/1980",
    "citizen_id": "046080000001",
    "commune": "Xã Hòa An",
    "address": ADDRESS_1,
    "spouse": "Trần Thị Bình",
    "parents": "Nguyễn Văn Em",
    "children": "Nguyễn Văn Cường; Nguyễn Thị Dung",
}


def csv_text(rows: list[dict[str, str]]) -> str:
    def cell(v: str) -> str:
        return f'"{v}"' if ("," in v or '"' in v) else v

    lines = [HEADER] + [",".join(cell(r.get(c, "")) for c in HEADER.split(",")) for r in rows]
    return "\n".join(lines) + "\n"
