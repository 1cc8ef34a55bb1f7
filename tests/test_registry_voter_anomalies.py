"""The voter-list anomaly rules: each fires on the moves and deaths that break it, and on no
others; thresholds are data a deployment may override; `vigil detect` runs them."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from vigil.deployment import Deployment
from vigil.detection import run_detectors
from vigil.registry.datasets import DEATHS, HOUSEHOLDS, MOVES, PERSONS, SCHEMAS
from vigil.registry.errors import RegistryError
from vigil.registry.voters.anomalies import (
    MOVE_BURST,
    REMOVAL_BURST,
    default_rules,
    parse_rules,
    voter_anomalies,
    with_thresholds,
)

DAY = date(2026, 1, 10)


def move(n: int, dest: str, source: str, day: date, village: str = "C01-V01") -> dict[str, Any]:
    return {"move_id": f"M{n}", "person_id": f"P{n}", "from_household_id": source,
            "household_id": dest, "commune": "C01", "village": village,
            "moved_on": day}  # fmt: skip


def household(hid: str, village: str) -> dict[str, Any]:
    return {"household_id": hid, "commune": "C01", "village": village, "address": "x",
            "registered_on": date(2000, 1, 1), "members": 1}  # fmt: skip


def persons(village: str, n: int, first: int) -> list[dict[str, Any]]:
    return [
        {"person_id": f"Q{first + i}", "citizen_id": f"046090{first + i:06d}",
         "full_name": "Trần Văn Bình", "sex": "Nam", "birth_date": date(1980, 1, 1),
         "ethnicity": "Kinh", "commune": "C01", "village": village, "household_id": "HX",
         "relation_to_head": "con", "address": "x", "phone": None, "death_date": None}
        for i in range(n)
    ]  # fmt: skip


def write(dep: Deployment, dataset: str, kind: str, rows: list[dict[str, Any]]) -> None:
    batch = f"b{len(dep.lake.batches(dataset))}"
    dep.lake.write(dataset, pa.Table.from_pylist(rows, schema=SCHEMAS[kind]), batch)


def _fired(dep: Deployment) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in voter_anomalies(dep):
        out.setdefault(f.rule, set()).add(f.subject)
    return out


def test_move_burst_fires_on_persons_from_several_households_only(deployment: Deployment) -> None:
    moves = [
        # H1: 5 persons from 3 households within 30 days: fires.
        *(move(i, "H1", f"S{i % 3}", DAY + timedelta(days=i * 5)) for i in range(5)),
        # H2: a family of 6 moving in together from one household: does not fire.
        *(move(10 + i, "H2", "S9", DAY) for i in range(6)),
        # H3: 5 persons from 5 households, but over 60 days: does not fire.
        *(move(20 + i, "H3", f"T{i}", DAY + timedelta(days=i * 15)) for i in range(5)),
        # H4: 4 persons from 4 households in a day: one short, does not fire.
        *(move(30 + i, "H4", f"U{i}", DAY) for i in range(4)),
    ]
    write(deployment, MOVES, "moves", moves)
    findings = voter_anomalies(deployment)
    assert [(f.rule, f.subject, f.unit) for f in findings] == [(MOVE_BURST, "H1", "C01")]
    evidence = findings[0].evidence
    assert (evidence["persons"], evidence["source_households"]) == (5, 3)
    assert (evidence["first_move"], evidence["last_move"]) == ("2026-01-10", "2026-01-30")
    assert evidence["moves"] == ["P0", "P1", "P2", "P3", "P4"]
    assert evidence["thresholds"] == {"min_persons": 5, "min_sources": 3, "window_days": 30}


def _village_setup(dep: Deployment) -> None:
    write(dep, PERSONS, "persons", persons("C01-V01", 100, 0) + persons("C01-V02", 1000, 100))
    write(dep, HOUSEHOLDS, "households", [household("A", "C01-V01"), household("B", "C01-V02"),
                                          household("C", "C01-V03")])  # fmt: skip


def test_removal_burst_fires_on_many_leaving_one_village_in_a_day(deployment: Deployment) -> None:
    _village_setup(deployment)
    moves = [
        # 8 leave C01-V01 (100 listed) on one day: fires.
        *(move(i, "C", "A", DAY, "C01-V03") for i in range(8)),
        # 7 leave C01-V01 the next day: one short.
        *(move(10 + i, "C", "A", DAY + timedelta(days=1), "C01-V03") for i in range(7)),
        # 12 leave C01-V02 (1,000 listed) in a day: under 2 % of the village.
        *(move(20 + i, "C", "B", DAY, "C01-V03") for i in range(12)),
        # 9 move within C01-V01 on one day: nobody leaves the village.
        *(move(40 + i, "A", "A", DAY + timedelta(days=2)) for i in range(9)),
    ]
    # 12 of the moves into C share from-households, and come from 2: no move burst either.
    write(deployment, MOVES, "moves", moves)
    assert _fired(deployment) == {REMOVAL_BURST: {"C01-V01@2026-01-10"}}


def test_death_records_registered_on_one_day_count_as_removals(deployment: Deployment) -> None:
    _village_setup(deployment)
    deaths = [
        {"record_id": f"KT{i}", "citizen_id": f"046090{i:06d}", "full_name": "Trần Văn Bình",
         "sex": "Nam", "birth_date": date(1980, 1, 1), "death_date": date(2026, 1, 1),
         "commune": "C01", "registered_on": DAY}
        for i in range(5)
    ]  # fmt: skip
    write(deployment, DEATHS, "deaths", deaths)
    write(deployment, MOVES, "moves", [move(i, "C", "A", DAY, "C01-V03") for i in range(3)])
    [finding] = voter_anomalies(deployment)
    assert (finding.rule, finding.subject) == (REMOVAL_BURST, "C01-V01@2026-01-10")
    assert (finding.evidence["death_records"], finding.evidence["moves_out"]) == (5, 3)


def test_thresholds_are_overridden_by_the_deployment(deployment: Deployment) -> None:
    write(deployment, MOVES, "moves", [move(30 + i, "H4", f"U{i}", DAY) for i in range(4)])
    assert voter_anomalies(deployment) == []
    deployment.province.thresholds["registry"] = {MOVE_BURST: {"min_persons": 4}}
    assert [f.subject for f in voter_anomalies(deployment)] == ["H4"]


@pytest.mark.parametrize("values", [{"min_people": 3}, {"min_persons": -1}, {"min_persons": 2.5},
                                    {"min_persons": True}, {"min_persons": "5"}])  # fmt: skip
def test_a_bad_threshold_is_refused(values: dict[str, Any]) -> None:
    with pytest.raises(RegistryError):
        with_thresholds(default_rules()[MOVE_BURST], values, "vigil.toml")


def test_the_rules_file_must_declare_both_rules() -> None:
    with pytest.raises(RegistryError):
        parse_rules("rules: []\n", "x.yaml")
    assert set(default_rules()) == {MOVE_BURST, REMOVAL_BURST}
    for rule in default_rules().values():
        assert rule.title and rule.title_vi


def test_vigil_detect_records_them_once(deployment: Deployment) -> None:
    write(deployment, MOVES, "moves", [move(i, "H1", f"S{i}", DAY) for i in range(5)])
    [run] = run_detectors(deployment, {"registry"})
    assert run.error is None
    from sqlalchemy import select

    from vigil.store.models import FindingRow

    with deployment.store.reader() as session:
        rows = session.scalars(select(FindingRow).where(FindingRow.rule == MOVE_BURST)).all()
        assert [(r.subject, r.count) for r in rows] == [("H1", 1)]
    run_detectors(deployment, {"registry"})
    with deployment.store.reader() as session:
        rows = session.scalars(select(FindingRow).where(FindingRow.rule == MOVE_BURST)).all()
        assert [(r.subject, r.count) for r in rows] == [("H1", 1)]


def test_moves_imported_by_the_registry_import_fire_the_rule(
    deployment: Deployment, tmp_path: Path
) -> None:
    from vigil.registry.ingest.extract import import_extract
    from vigil.registry.ingest.mapping import load_mapping

    path = tmp_path / "moves.csv"
    lines = ["move_id,person_id,from_household_id,household_id,commune,village,moved_on"]
    lines += [f"M{i},P{i},S{i % 4},H7,C01,C01-V01,{10 + i}/01/2026" for i in range(6)]
    lines.append("M9,P9,S9,H8,C01,C01-V01,not a date")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = import_extract(deployment, path, "moves", load_mapping(None))
    assert (report.rows, report.quarantined) == (6, 1)
    [finding] = voter_anomalies(deployment)
    assert (finding.rule, finding.subject, finding.evidence["source_households"]) == (
        MOVE_BURST, "H7", 4
    )  # fmt: skip


def test_the_rules_and_the_list_give_the_same_answer_on_every_engine(
    deployment: Deployment, lake_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vigil.lake.datasets import Lake
    from vigil.registry.voters.eligibility import register_sources, standing

    monkeypatch.setattr(deployment, "_lake", Lake(deployment.settings.data / "lake", lake_engine))
    _village_setup(deployment)
    moves = [move(i, "C", "A", DAY, "C01-V03") for i in range(8)]
    moves += [move(10 + i, "H1", f"S{i % 3}", DAY + timedelta(days=i)) for i in range(5)]
    write(deployment, MOVES, "moves", moves)
    assert _fired(deployment) == {
        MOVE_BURST: {"H1"}, REMOVAL_BURST: {"C01-V01@2026-01-10"}
    }  # fmt: skip
    people = persons("C01-V01", 3, 5000)
    people[1]["birth_date"] = date(2010, 1, 1)
    people[2]["citizen_id"] = people[0]["citizen_id"]
    write(deployment, PERSONS, "persons", people)
    table = standing(register_sources(deployment), ["C01"], date(2008, 3, 15))
    mine = {"Q5000", "Q5001", "Q5002"}
    left_off = {r["person_id"]: r["left_off"] for r in table.to_pylist() if r["person_id"] in mine}
    assert left_off == {"Q5000": None, "Q5001": "under_age", "Q5002": "same_citizen_id"}
