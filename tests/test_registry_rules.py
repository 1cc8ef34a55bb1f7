"""The registry's quality rules: each fires on the records that break it and on no other."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pyarrow as pa
import pytest

from vigil.core.personal import mask_evidence
from vigil.deployment import Deployment
from vigil.registry.datasets import DEATHS, HOUSEHOLDS, PERSONS, SCHEMAS
from vigil.registry.rules.catalog import load_catalog
from vigil.registry.rules.check import check_registry, checked_batches

HEAD, WIFE, CHILD = "chủ hộ", "vợ", "con"


def person(pid: str, **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "person_id": pid,
        "citizen_id": f"046080{int(pid[1:]):06d}",
        "full_name": "Nguyễn Văn An",
        "sex": "Nam",
        "birth_date": date(1980, 5, 12),
        "ethnicity": "Kinh",
        "commune": "C01",
        "village": None,
        "household_id": "HH1",
        "relation_to_head": CHILD,
        "address": "Thôn 1, xã Một",
        "phone": None,
        "death_date": None,
    }
    row.update(over)
    return row


PERSONS_ROWS = [
    person("P1", relation_to_head=HEAD),
    person("P2", full_name="Trần Thị Bình", sex="Nữ", birth_date=date(1985, 3, 1),
           citizen_id="046185000002", relation_to_head=WIFE),
    person("P3", citizen_id="04608000003"),  # 11 digits
    person("P4", birth_date=date(1990, 1, 1)),  # the ID says 1980
    person("P5", sex="Nữ"),  # the ID says a man
    person("P6", citizen_id="046O80000006"),  # a letter O
    person("P7", citizen_id="999080000007"),  # no such province
    person("P8", sex=None, address=None),
    person("P9", full_name="Lê 3"),
    person("P10", full_name="Lê"),
    person("P11", birth_date=date(2030, 1, 1), citizen_id="046230000011"),
    person("P12", commune="C99"),
    person("P13", village="C01-V99"),
    person("P14", citizen_id="046080777777"),  # a death record has this ID
    person("P15", household_id="HH9"),  # no such household
    person("P16", household_id="HH2"),  # HH2: nobody is the head
    person("P17", household_id="HH3", relation_to_head=HEAD),
    person("P18", household_id="HH3", relation_to_head=HEAD),
    person("P19", citizen_id="046080555555", full_name="Phạm Văn Cường"),
    person("P20", citizen_id="046080555555", full_name="Hồ Văn Dũng",
           birth_date=date(1980, 9, 9)),
    person("P21", death_date=date(2020, 1, 1), relation_to_head=HEAD, household_id="HH4"),
]  # fmt: skip
HOUSEHOLDS_ROWS = [
    {"household_id": h, "commune": "C01", "village": None, "address": "x",
     "registered_on": date(2000, 1, 1), "members": 1}
    for h in ("HH1", "HH2", "HH3", "HH4")
]  # fmt: skip
DEATH_ROWS = [
    {"record_id": "KT1", "citizen_id": "046080777777", "full_name": "Nguyễn Văn An",
     "sex": "Nam", "birth_date": date(1980, 5, 12), "death_date": date(2026, 1, 1),
     "commune": "C01", "registered_on": date(2026, 1, 5)}
]  # fmt: skip

EXPECTED = {
    "citizen-id-invalid": {"P3", "P4", "P5", "P6", "P7"},
    "required-field-missing": {"P8"},
    "name-malformed": {"P9", "P10"},
    "dates-out-of-order": {"P11"},
    "unit-unknown": {"P12", "P13"},
    "deceased-listed": {"P14"},
    "household-unknown": {"P15"},
    "household-without-head": {"HH2"},
    "household-many-heads": {"HH3"},
    "citizen-id-shared": {"P19 ~ P20"},
}


def _write(deployment: Deployment, batch: str, persons: list[dict[str, Any]]) -> None:
    lake = deployment.lake
    lake.write(PERSONS, pa.Table.from_pylist(persons, schema=SCHEMAS["persons"]), batch)
    if not lake.files(HOUSEHOLDS):
        lake.write(
            HOUSEHOLDS, pa.Table.from_pylist(HOUSEHOLDS_ROWS, schema=SCHEMAS["households"]), "h"
        )
        lake.write(DEATHS, pa.Table.from_pylist(DEATH_ROWS, schema=SCHEMAS["deaths"]), "d")


def _catalog_without_linkage() -> Any:
    catalog = load_catalog()
    rules = tuple(r for r in catalog.rules if r.name != "duplicate-person")
    return dataclasses.replace(catalog, rules=rules)


def _by_rule(findings: list[Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in findings:
        out.setdefault(f.rule, set()).add(f.subject)
    return out


def test_each_rule_fires_on_its_records_and_no_other(deployment: Deployment) -> None:
    _write(deployment, "b1", PERSONS_ROWS)
    result = check_registry(deployment, catalog=_catalog_without_linkage())
    assert _by_rule(result.findings) == EXPECTED
    reasons = {
        f.subject: f.evidence["reason"] for f in result.findings if f.rule == "citizen-id-invalid"
    }
    assert reasons == {
        "P3": "length", "P4": "birth_year", "P5": "sex_century", "P6": "not_digits",
        "P7": "province",
    }  # fmt: skip
    missing = next(f for f in result.findings if f.rule == "required-field-missing")
    assert missing.evidence["reason"] == "sex address"
    for f in result.findings:
        assert f.capability == "registry" and f.unit in {"C01", "C99"}


def test_personal_data_in_evidence_is_masked(deployment: Deployment) -> None:
    _write(deployment, "b1", PERSONS_ROWS)
    result = check_registry(deployment, catalog=_catalog_without_linkage())
    dead = next(f for f in result.findings if f.rule == "deceased-listed")
    assert dead.evidence["personal"]["citizen_id"] == "046080777777"
    assert dead.evidence["death_record"] == "KT1"
    shown = mask_evidence(dead.evidence)["personal"]
    assert shown == {"citizen_id": "046*******77", "full_name": "Nguyễn V. A."}
    assert "046080777777" not in dead.subject + dead.title


def test_record_rules_look_at_new_batches_only(deployment: Deployment) -> None:
    _write(deployment, "b1", PERSONS_ROWS[:2])
    first = check_registry(deployment, catalog=_catalog_without_linkage())
    with deployment.store.session() as session:
        first.save_progress(session)
    with deployment.store.reader() as session:
        assert (PERSONS, "b1") in checked_batches(session)
    assert check_registry(deployment, catalog=_catalog_without_linkage()).findings == []
    _write(deployment, "b2", [person("P30", citizen_id="123")])
    second = check_registry(deployment, catalog=_catalog_without_linkage())
    assert [(f.rule, f.subject) for f in second.findings if f.rule == "citizen-id-invalid"] == [
        ("citizen-id-invalid", "P30")
    ]


@pytest.mark.parametrize("rule", sorted(EXPECTED))
def test_every_rule_is_declared_with_both_titles(rule: str) -> None:
    declared = load_catalog().rule(rule)
    assert declared.title and declared.title_vi and declared.word
