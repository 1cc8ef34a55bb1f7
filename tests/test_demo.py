"""The demo province: units, calendar, population, planted problems and their ground truth."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pluggy
import pytest
from sqlalchemy import select

from vigil.core.access import Role
from vigil.core.config import Settings, load_province
from vigil.core.errors import AuthError, ConfigError
from vigil.core.units import UnitKind
from vigil.demo.build import (
    DemoError,
    DemoResult,
    build_demo,
    demo_settings,
    prepare_directory,
    read_ground_truth,
    run_contributors,
)
from vigil.demo.defects import REQUIRED_FIELDS, RULES
from vigil.demo.officers import DEMO_PASSWORD, create_demo_officers
from vigil.demo.population import DEATHS, HOUSEHOLDS, PERSONS, split_persons
from vigil.demo.province import read_clock
from vigil.deployment import Deployment
from vigil.lake.datasets import Lake
from vigil.plugins import DemoContext, VigilSpec, hookimpl
from vigil.registry.citizen_id import citizen_id_problem
from vigil.registry.text import strip_diacritics
from vigil.registry.voters.anomalies import MOVE_BURST, REMOVAL_BURST
from vigil.store.models import AuditEntry
from vigil.store.users import actor_for, authenticate

PERSONS_N = 2000


def _build(root: Path, seed: int) -> DemoResult:
    return build_demo(root, persons=PERSONS_N, seed=seed)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    return _build(tmp_path_factory.mktemp("demo") / "a", seed=11)


@pytest.fixture(scope="module")
def rows(built: DemoResult) -> dict[str, list[dict[str, Any]]]:
    lake = Lake(built.data_dir / "lake")
    return {name: lake.read(name).to_pylist() for name in (PERSONS, HOUSEHOLDS, DEATHS)}


@pytest.fixture(scope="module")
def truth(built: DemoResult) -> dict[str, set[str]]:
    by_rule: dict[str, set[str]] = defaultdict(set)
    for t in read_ground_truth(built.data_dir):
        by_rule[t.rule].add(t.subject)
    return by_rule


def _planted_people(truth: dict[str, set[str]]) -> set[str]:
    return set().union(*(s for rule, s in truth.items() if rule != "household-without-head"))


# --- province -----------------------------------------------------------------------------------


def test_province_has_18_departments_15_communes_and_their_police(built: DemoResult) -> None:
    config = load_province(built.data_dir / "vigil.toml")
    tree = config.unit_tree()
    kinds = Counter(u.kind for u in tree)
    assert tree.root.code == "P46"
    assert kinds[UnitKind.DEPARTMENT] == 18
    assert kinds[UnitKind.COMMUNE] == 15
    assert kinds[UnitKind.COMMUNE_POLICE] == 15
    assert [u.code for u in tree.of_kind(UnitKind.DEPARTMENT)] == [
        f"D{i:02d}" for i in range(1, 19)
    ]
    for commune in tree.of_kind(UnitKind.COMMUNE):
        police = tree.get(f"{commune.code}-POL")
        assert police.parent == commune.code
        assert police.name_vi.startswith("Công an ")
        villages = [u for u in tree.children(commune.code) if u.kind == UnitKind.VILLAGE]
        assert 3 <= len(villages) <= 6
        assert [v.code for v in villages] == [
            f"{commune.code}-V{i:02d}" for i in range(1, len(villages) + 1)
        ]
        prefix = "Tổ dân phố " if commune.name_vi.startswith("Phường") else "Thôn "
        assert all(v.name_vi.startswith(prefix) for v in villages)
    assert tree.get("D02").name_vi == "Công an tỉnh"
    assert tree.get("D06").name_en == "Provincial Election Committee"


def test_province_text_is_nfc(built: DemoResult) -> None:
    text = (built.data_dir / "vigil.toml").read_text(encoding="utf-8")
    assert unicodedata.is_normalized("NFC", text)
    assert "Ủy ban bầu cử tỉnh" in text


def test_calendar_voting_day_and_demo_clock(built: DemoResult) -> None:
    config = load_province(built.data_dir / "vigil.toml")
    voting = config.calendar.voting_day
    assert voting.isoformat() == "2027-03-14T07:00:00+07:00"
    assert voting.weekday() == 6  # Sunday
    clock = read_clock(built.data_dir)
    assert clock is not None and clock.isoformat() == "2027-03-05T09:00:00+07:00"
    calendar = config.election_calendar()
    assert calendar.phase_at(datetime(2027, 3, 5, 2, 0)) == "before"
    assert calendar.phase_at(datetime(2027, 3, 14, 0, 0)) == "during"  # 07:00 local on voting day
    assert calendar.phase_at(datetime(2027, 3, 12, 16, 59)) == "before"
    assert calendar.phase_at(datetime(2027, 3, 15, 17, 0)) == "after"  # 16 March 00:00 local


def test_deployment_takes_the_clock_from_settings(
    built: DemoResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    dep = Deployment.open(built.settings, upgrade=False)
    try:
        assert dep.now() == datetime(2027, 3, 5, 2, 0)  # naive UTC
        assert dep.policy().phase == "before"
        assert str(dep.policy().alert_threshold.label) == "medium"
    finally:
        dep.close()
    monkeypatch.setenv("VIGIL_CLOCK", "2027-03-14T08:30:00+07:00")
    dep = Deployment.open(Settings(data=built.data_dir), upgrade=False)
    try:
        assert dep.now() == datetime(2027, 3, 14, 1, 30)
        assert dep.policy().phase == "during"
    finally:
        dep.close()
    explicit = datetime(2027, 4, 1, tzinfo=UTC).replace(tzinfo=None)
    dep = Deployment.open(Settings(data=built.data_dir), upgrade=False, clock=explicit)
    try:
        assert dep.now() == explicit
    finally:
        dep.close()


def test_watchlist_and_facts(built: DemoResult) -> None:
    config = load_province(built.data_dir / "vigil.toml")
    assert {"binhson.gov.vn", "baucu.binhson.gov.vn"} <= set(config.watchlist.official_domains)
    owners = {a["owner"] for a in config.watchlist.official_accounts}
    assert owners <= {u.code for u in config.unit_tree()}
    assert 8 <= len(config.facts) <= 10
    assert len({f.key for f in config.facts}) == len(config.facts)
    assert all(f.text_vi and f.text_en and f.text_vi != f.text_en for f in config.facts)
    voting_day = next(f for f in config.facts if f.key == "voting_day")
    assert "14 tháng 3 năm 2027" in voting_day.text_vi and "14 March 2027" in voting_day.text_en


# --- population ---------------------------------------------------------------------------------


def test_population_columns_and_sizes(
    built: DemoResult, rows: dict[str, list[dict[str, Any]]]
) -> None:
    persons = rows[PERSONS]
    assert built.population.persons == len(persons)
    assert built.population.households == len(rows[HOUSEHOLDS])
    assert built.population.deaths == len(rows[DEATHS])
    # Requested people, less the planted missing heads, plus the planted duplicates.
    planted = Counter(t.rule for t in built.truth)
    expected = PERSONS_N - planted["household-without-head"] + planted["duplicate-person"]
    assert len(persons) == expected
    assert list(persons[0]) == [
        "person_id", "citizen_id", "full_name", "sex", "birth_date", "ethnicity", "commune",
        "village", "household_id", "relation_to_head", "address", "phone", "death_date",
    ]  # fmt: skip
    assert len({p["person_id"] for p in persons}) == len(persons)
    assert {p["commune"] for p in persons} == {f"C{i:02d}" for i in range(1, 16)}
    assert Counter(p["sex"] for p in persons).keys() <= {"Nam", "Nữ", None}
    assert Counter(p["ethnicity"] for p in persons).most_common(1)[0][0] == "Kinh"
    families = Counter(p["full_name"].split()[0] for p in persons if p["full_name"])
    assert families.most_common(1)[0][0] == "Nguyễn"
    assert 0.30 < families["Nguyễn"] / sum(families.values()) < 0.46
    for p in persons:
        assert p["village"].startswith(p["commune"] + "-V")
        if p["phone"] is not None:
            assert len(p["phone"]) == 10 and p["phone"][4:7] == "***" and p["phone"][0] == "0"


def test_population_text_is_nfc(rows: dict[str, list[dict[str, Any]]]) -> None:
    for p in rows[PERSONS]:
        for key in ("full_name", "address", "relation_to_head", "ethnicity"):
            value = p[key]
            assert value is None or unicodedata.is_normalized("NFC", value), (key, value)


def test_households_have_members_and_coherent_ages(
    rows: dict[str, list[dict[str, Any]]], truth: dict[str, set[str]]
) -> None:
    members: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for p in rows[PERSONS]:
        members[p["household_id"]].append(p)
    planted = _planted_people(truth)
    checked = 0
    for household in rows[HOUSEHOLDS]:
        listed = members[household["household_id"]]
        assert listed, household
        assert household["members"] == len(listed)
        assert all(p["village"] == household["village"] for p in listed)
        clean = [p for p in listed if p["person_id"] not in planted]
        assert all(p["address"] == household["address"] for p in clean)
        # At most 7 live together, but for the households a burst of moves was planted into.
        assert len(clean) <= 7 or household["household_id"] in truth["voter-move-burst"]
        heads = [p for p in listed if p["relation_to_head"] == "chủ hộ"]
        if household["household_id"] in truth["household-without-head"]:
            assert heads == []
            continue
        assert len(heads) == 1
        if heads[0]["person_id"] in planted:
            continue  # its sex or birth date may be the planted problem
        head = heads[0]
        spouses = [p for p in clean if p["relation_to_head"] in ("vợ", "chồng")]
        assert len(spouses) <= 1
        for spouse in spouses:
            assert spouse["sex"] != head["sex"]
            assert spouse["relation_to_head"] == ("chồng" if spouse["sex"] == "Nam" else "vợ")
        parents = [head, *spouses]
        for child in (p for p in clean if p["relation_to_head"] == "con"):
            for parent in parents:
                assert child["birth_date"].year - parent["birth_date"].year >= 17, (child, parent)
            checked += 1
        for elder in (p for p in clean if p["relation_to_head"] in ("cha", "mẹ")):
            assert head["birth_date"].year - elder["birth_date"].year >= 17
            assert elder["sex"] == ("Nam" if elder["relation_to_head"] == "cha" else "Nữ")
    assert checked > 500


def test_unplanted_citizen_ids_are_valid_and_unique(
    rows: dict[str, list[dict[str, Any]]], truth: dict[str, set[str]]
) -> None:
    planted = _planted_people(truth)
    clean = [p for p in rows[PERSONS] if p["person_id"] not in planted]
    for p in clean:
        assert citizen_id_problem(p["citizen_id"], p["birth_date"], p["sex"]) is None, p
    ids = [p["citizen_id"] for p in clean]
    assert len(set(ids)) == len(ids)
    born_here = sum(1 for i in ids if i.startswith("046")) / len(ids)
    assert 0.85 < born_here < 0.95


# --- planted problems and ground truth ----------------------------------------------------------


def test_ground_truth_lists_every_planted_record(
    built: DemoResult, rows: dict[str, list[dict[str, Any]]], truth: dict[str, set[str]]
) -> None:
    persons = rows[PERSONS]
    by_id = {p["person_id"]: p for p in persons}
    body = json.loads((built.data_dir / "demo" / "ground_truth.json").read_text(encoding="utf-8"))
    assert body["seed"] == 11 and body["persons"] == PERSONS_N and body["province"] == "P46"
    registry = [t for t in body["planted"] if t["capability"] == "registry"]
    assert {t["rule"] for t in registry} == {*RULES, MOVE_BURST, REMOVAL_BURST}
    assert all(t["unit"] in {f"C{i:02d}" for i in range(1, 16)} for t in registry)
    assert 0.01 <= len(registry) / PERSONS_N <= 0.025

    # Each rule's subjects, found again from the data alone.
    missing = {p["person_id"] for p in persons if any(p[f] is None for f in REQUIRED_FIELDS)}
    assert missing == truth["required-field-missing"]
    invalid = {
        p["person_id"]
        for p in persons
        if p["person_id"] not in missing
        and citizen_id_problem(p["citizen_id"], p["birth_date"], p["sex"])
    }
    assert invalid == truth["citizen-id-invalid"]
    dead_ids = {d["citizen_id"] for d in rows[DEATHS]}
    listed_alive = {
        p["person_id"] for p in persons if p["death_date"] is None and p["citizen_id"] in dead_ids
    }
    assert listed_alive == truth["deceased-listed"]
    with_head = {p["household_id"] for p in persons if p["relation_to_head"] == "chủ hộ"}
    assert {h["household_id"] for h in rows[HOUSEHOLDS]} - with_head == truth[
        "household-without-head"
    ]
    for p in persons:
        if p["death_date"] is not None:  # recorded deaths have their record too
            assert p["citizen_id"] in dead_ids

    # Duplicates: another record of the same person, in another household of the same commune.
    # (Folding diacritics also makes look-alikes such as Hưng/Hùng: those live in other communes.)
    def key(p: dict[str, Any]) -> tuple[str, str, int, frozenset[int]]:
        b = p["birth_date"]
        name = strip_diacritics(p["full_name"]).lower()
        return p["commune"], name, b.year, frozenset((b.day, b.month))

    groups: dict[tuple[str, str, int, frozenset[int]], list[str]] = defaultdict(list)
    for p in persons:
        if p["full_name"] and p["birth_date"]:
            groups[key(p)].append(p["person_id"])
    repeated = [ids for ids in groups.values() if len(ids) > 1]
    assert sum(len(ids) - 1 for ids in repeated) == len(truth["duplicate-person"])
    for ids in repeated:  # one original, the rest planted copies
        assert len(set(ids) - truth["duplicate-person"]) == 1
    for t in registry:
        if t["rule"] != "duplicate-person":
            continue
        copy = by_id[t["subject"]]
        original = by_id[t["note"].split(":")[0].removeprefix("duplicate of ")]
        assert copy["commune"] == original["commune"] == t["unit"]
        assert copy["household_id"] != original["household_id"]
        assert key(copy) == key(original)
        assert copy["person_id"] not in (original["person_id"],)
        if copy["citizen_id"] != original["citizen_id"]:
            assert "transposed" in t["note"]
            assert sorted(copy["citizen_id"]) == sorted(original["citizen_id"])


def test_invalid_citizen_ids_fail_for_the_reason_noted(
    built: DemoResult, rows: dict[str, list[dict[str, Any]]]
) -> None:
    by_id = {p["person_id"]: p for p in rows[PERSONS]}
    reasons = {
        "wrong number of digits": "length",
        "contains letters": "not_digits",
        "another birth year": "birth_year",
        "another sex or century": "sex_century",
        "province code": "province",
    }
    seen: Counter[str] = Counter()
    for t in built.truth:
        if t.rule != "citizen-id-invalid":
            continue
        p = by_id[t.subject]
        expected = next(code for phrase, code in reasons.items() if phrase in t.note)
        assert citizen_id_problem(p["citizen_id"], p["birth_date"], p["sex"]) == expected
        seen[expected] += 1
    assert sum(seen.values()) >= 5


def test_same_seed_same_bytes_other_seed_differs(built: DemoResult, tmp_path: Path) -> None:
    again = _build(tmp_path / "b", seed=11)
    other = _build(tmp_path / "c", seed=12)

    def digests(root: Path) -> dict[str, str]:
        lake = root / "lake"
        return {
            str(f.relative_to(lake)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(lake.glob("population_*/*.parquet"))
        }

    def truth_text(root: Path) -> str:
        return (root / "demo" / "ground_truth.json").read_text(encoding="utf-8")

    first = digests(built.data_dir)
    assert len(first) == 4 * 15  # four datasets, one batch per commune at this size
    assert digests(again.data_dir) == first
    assert truth_text(again.data_dir) == truth_text(built.data_dir)
    assert digests(other.data_dir).keys() == first.keys()
    assert (
        digests(other.data_dir)[f"{PERSONS}/demo-0000.parquet"]
        != first[f"{PERSONS}/demo-0000.parquet"]
    )
    assert truth_text(other.data_dir) != truth_text(built.data_dir)


def test_split_persons_is_exact() -> None:
    assert split_persons(10, [1.0, 1.0, 1.0]) == [4, 3, 3]
    counts = split_persons(3_000_000, [1.7, 1.5, 0.4, 0.4])
    assert sum(counts) == 3_000_000 and counts[0] > counts[1] > counts[2] >= counts[3]


def test_lake_can_query_the_population(built: DemoResult) -> None:
    lake = Lake(built.data_dir / "lake")
    try:
        table = lake.query(
            "SELECT commune, count(*) AS n FROM population_persons "
            "GROUP BY commune ORDER BY commune"
        )
    finally:
        lake.close()
    counts = dict(
        zip(table.column("commune").to_pylist(), table.column("n").to_pylist(), strict=True)
    )
    assert sum(counts.values()) == built.population.persons
    assert counts["C01"] > counts["C15"]  # the city ward is bigger than the highland commune


# --- officers -----------------------------------------------------------------------------------


def test_officers_can_authenticate(built: DemoResult) -> None:
    dep = Deployment.open(built.settings, upgrade=False)
    try:
        with dep.store.session() as session:
            roles = {}
            for account in built.accounts:
                user = authenticate(session, account.username, DEMO_PASSWORD)
                assert user.unit == account.unit and user.lang == "vi"
                roles[user.username] = (user.role, user.unit)
            with pytest.raises(AuthError):
                authenticate(session, "duty1", "not-the-password")
            c01 = actor_for(authenticate(session, "c01.duty", DEMO_PASSWORD), dep.units)
            audited = set(
                session.scalars(select(AuditEntry.target).where(AuditEntry.action == "user.create"))
            )
    finally:
        dep.close()
    assert roles == {
        "admin": ("admin", "P46"),
        "duty1": ("duty_officer", "P46"),
        "duty2": ("duty_officer", "P46"),
        "duty3": ("duty_officer", "P46"),
        "duty4": ("duty_officer", "P46"),
        "inspector": ("inspector", "P46"),
        "data_officer": ("data_officer", "P46"),
        "analyst": ("analyst", "P46"),
        "viewer": ("viewer", "P46"),
        "c01.duty": ("duty_officer", "C01"),
        "c02.duty": ("duty_officer", "C02"),
    }
    assert (
        c01.role == Role.DUTY_OFFICER
        and c01.sees("C01-POL")
        and c01.sees("C01-V01")
        and not c01.sees("C02")
    )
    assert audited == {f"user:{name}" for name in roles}


def test_demo_officers_are_refused_outside_demo_mode(deployment: Deployment) -> None:
    with deployment.store.session() as session, pytest.raises(ConfigError):
        create_demo_officers(session, deployment.system(), deployment.units, demo_mode=False)


# --- building -----------------------------------------------------------------------------------


def test_non_empty_directory_is_refused_without_force(tmp_path: Path) -> None:
    target = tmp_path / "data"
    target.mkdir()
    (target / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(DemoError, match="not empty"):
        prepare_directory(target, force=False)
    with pytest.raises(DemoError, match="does not look like a Vigil data directory"):
        prepare_directory(target, force=True)
    assert (target / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_force_empties_only_a_vigil_data_directory(tmp_path: Path) -> None:
    target = tmp_path / "data"
    (target / "lake" / "x").mkdir(parents=True)
    (target / "vigil.toml").write_text("", encoding="utf-8")
    (target / "secret.key").write_text("k", encoding="utf-8")
    prepare_directory(target, force=True)
    assert target.is_dir() and list(target.iterdir()) == []
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "vigil.toml").write_text("", encoding="utf-8")
    with pytest.raises(DemoError):
        prepare_directory(repo, force=True)
    assert (repo / ".git").is_dir()


def test_demo_settings_never_use_an_outside_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIGIL_DATABASE_URL", "postgresql://elsewhere/vigil")
    settings = demo_settings(tmp_path)
    assert settings.db_url == f"sqlite:///{(tmp_path / 'vigil.db').resolve()}"
    assert settings.demo and not settings.cookie_secure
    assert settings.clock is not None and settings.clock.isoformat() == "2027-03-05T09:00:00+07:00"


class _Late:
    calls: list[str]

    def __init__(self, calls: list[str], name: str, order: int | None, fail: bool = False) -> None:
        self.calls, self.name, self.fail = calls, name, fail
        if order is not None:
            self.vigil_demo_order = lambda: order

    @hookimpl
    def vigil_demo(self, ctx: DemoContext) -> None:
        self.calls.append(self.name)
        if self.fail:
            raise RuntimeError("broken room")
        ctx.plant(self.name, "rule", f"{self.name}-1", "P01", "planted")


def test_contributors_run_in_order_and_a_failure_does_not_stop_the_rest(
    deployment: Deployment,
) -> None:
    manager = pluggy.PluginManager("vigil")
    manager.add_hookspecs(VigilSpec)
    calls: list[str] = []
    manager.register(_Late(calls, "cases", 90), name="cases")
    manager.register(_Late(calls, "monitor", None), name="monitor")  # default 50
    manager.register(_Late(calls, "broken", 20, fail=True), name="broken")
    manager.register(_Late(calls, "infowatch", 10), name="infowatch")
    manager.register(_Late(calls, "demo", 1), name="demo")  # the demo room itself is skipped
    ctx = DemoContext(deployment=deployment, seed=1, persons=100)
    progress: list[tuple[str, int, int]] = []
    runs = run_contributors(ctx, lambda *a: progress.append(a), manager)
    assert calls == ["infowatch", "broken", "monitor", "cases"]
    assert [(r.name, r.order, r.planted, r.error) for r in runs] == [
        ("infowatch", 10, 1, None),
        ("broken", 20, 0, "RuntimeError: broken room"),
        ("monitor", 50, 1, None),
        ("cases", 90, 1, None),
    ]
    assert [t.subject for t in ctx.truth] == ["infowatch-1", "monitor-1", "cases-1"]
    assert progress[-1] == ("contributors", 4, 4)


def test_read_ground_truth_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DemoError, match="not built by 'vigil demo'"):
        read_ground_truth(tmp_path)


def test_strip_diacritics() -> None:
    assert strip_diacritics("Nguyễn Thị Đào") == "Nguyen Thi Dao"
    assert strip_diacritics("Huỳnh Ngọc Ánh") == "Huynh Ngoc Anh"
