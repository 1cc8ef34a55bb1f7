"""Record linkage of persons: records, the model, dedupe and link over the demo's registry."""

from __future__ import annotations

import math
import re
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from vigil.demo.build import DemoResult, build_demo, read_ground_truth
from vigil.lake.datasets import Lake
from vigil.registry.linkage.link import LinkedPair, dedupe, link, train
from vigil.registry.linkage.records import RECORD_COLUMNS, linkage_records
from vigil.registry.linkage.sources import death_records, registry_persons


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    return build_demo(tmp_path_factory.mktemp("linkage") / "d", persons=3000, seed=5)


def _planted_pairs(demo: DemoResult, rule: str) -> set[tuple[str, str]]:
    pairs = set()
    for t in read_ground_truth(demo.data_dir):
        if t.rule == rule:
            original = re.search(r"NK\d+", t.note)
            assert original is not None
            a, b = t.subject, original.group(0)
            pairs.add((min(a, b), max(a, b)))
    return pairs


def test_records_split_and_fold_vietnamese_names() -> None:
    table = pa.table(
        {
            "person_id": ["a", "b", "c"],
            "full_name": ["Nguyễn  Thị Đào", "Tran Van Thanh Tung", None],
            "birth_date": [date(1990, 5, 12), None, None],
            "citizen_id": ["046190001245", "", None],
        }
    )
    rows = linkage_records(table).to_pylist()
    assert list(linkage_records(table).column_names) == list(RECORD_COLUMNS)
    a, b, c = rows
    assert (a["family"], a["middle"], a["given"]) == ("nguyễn", "thị", "đào")
    assert (a["family_ascii"], a["given_ascii"], a["full_ascii"]) == (
        "nguyen",
        "dao",
        "nguyen thi dao",
    )
    assert (a["birth_year"], a["birth_month"], a["birth_day"]) == (1990, 5, 12)
    assert a["citizen_digits"] == "".join(sorted("046190001245"))
    assert (b["middle"], b["middle_ascii"]) == ("van thanh", "van thanh")
    assert b["citizen_id"] is None and b["sex"] is None
    assert c["family"] is None and c["full_ascii"] is None
    assert a["birth_text"] == "19900512" and a["name_key"] == "dao nguyen thi"


def test_records_take_the_name_in_parts_when_the_source_keeps_it_so() -> None:
    """A source with family and given names apart: a missing family name leaves the given
    name where it is (split at spaces, 'Smith' alone would have become the given name)."""
    table = pa.table(
        {
            "id": ["1", "2"],
            "family_name": ["Smith", None],
            "given_name": [" Ann  Marie", "Smith"],
            "village": ["Thôn  Đông", None],
        }
    )
    a, b = linkage_records(table, "id").to_pylist()
    assert (a["family"], a["given"], a["full_ascii"]) == ("smith", "ann marie", "smith ann marie")
    assert (b["family"], b["given"], b["full_ascii"]) == (None, "smith", "smith")
    assert a["name_key"] == "ann marie smith" and a["village"] == "thon dong"


def test_broad_blocking_is_kept_only_where_it_is_affordable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each broad rule is counted on the records: under the budget it is used, over it not."""
    from vigil.registry.linkage import model as spec
    from vigil.registry.linkage.link import _affordable, _engine, _view

    families = ["Nguyễn"] * 30 + ["Trần"] * 10
    table = pa.table(
        {
            "person_id": [f"NK{i:03d}" for i in range(40)],
            "full_name": [f"{f} Văn {chr(65 + i % 20)}{i}" for i, f in enumerate(families)],
            "birth_date": [date(1950 + i, 1, 1) for i in range(40)],
        }
    )
    records = linkage_records(table)
    # 30 Nguyễn and 10 Trần: 30² + 10² ordered pairs, each record with itself included, 500
    # counted (435 + 45 pairs to score); every other broad rule counts 20 (each record alone).
    monkeypatch.setattr(spec, "BROAD_BUDGET", 499)
    with _engine(None) as eng:
        kept = _affordable(eng, _view(eng, records), records.num_rows)
    assert ("family_ascii",) not in kept and ("birth_date",) in kept
    monkeypatch.setattr(spec, "BROAD_BUDGET", 500)
    with _engine(None) as eng:
        assert ("family_ascii",) in _affordable(eng, _view(eng, records), records.num_rows)


def test_names_written_the_other_way_round_still_link() -> None:
    """The same person entered family name last (and once with a typo) links; the model is
    trained on the records themselves, no labels."""
    base = [
        (f"NK{i:03d}", f"{f} {g}", date(1950 + i % 40, 1 + i % 12, 1 + i % 28), f"0011{i:08d}")
        for i, (f, g) in enumerate(
            (f, g)
            for f in ("Nguyen", "Tran", "Le", "Pham", "Hoang", "Vu", "Dang", "Bui")
            for g in ("An", "Binh", "Cuong", "Dung", "Giang", "Hanh", "Khanh", "Long")
        )
    ]
    # Near-certain pairs for the prior (the same ID and name), then the swapped ones.
    twins = [(f"TW{i:03d}", n, d, c) for i, (_, n, d, c) in enumerate(base[:12])]
    swapped = [
        ("SW001", "Khanh Bui", base[-2][2], base[-2][3]),
        ("SW002", "Longg Bui", base[-1][2], base[-1][3]),
    ]
    rows = base + twins + swapped
    table = pa.table(
        {
            "person_id": [r[0] for r in rows],
            "full_name": [r[1] for r in rows],
            "birth_date": [r[2] for r in rows],
            "citizen_id": [r[3] for r in rows],
        }
    )
    found = {(p.left, p.right) for p in dedupe(linkage_records(table))}
    assert (base[-2][0], "SW001") in found and (base[-1][0], "SW002") in found


def test_dedupe_finds_every_planted_duplicate_and_nothing_else(demo: DemoResult) -> None:
    persons = registry_persons(Lake(demo.data_dir / "lake"))
    pairs = dedupe(persons)
    assert {(p.left, p.right) for p in pairs} == _planted_pairs(demo, "duplicate-person")
    for p in pairs:
        assert p.left < p.right and p.probability >= 0.9
        # The explanation adds up to the pair's match weight.
        weight = sum(p.explanation.values())
        assert weight == pytest.approx(math.log2(p.probability / (1 - p.probability)), abs=0.05)
        assert set(p.explanation) == {
            "prior",
            "family",
            "middle",
            "given",
            "birth_date",
            "citizen_id",
            "sex",
            "address",
            "locality",
        }


def test_link_two_sources_finds_the_dead_still_listed(demo: DemoResult) -> None:
    lake = Lake(demo.data_dir / "lake")
    persons = registry_persons(lake)
    deaths = death_records(lake)
    model = train(persons)
    pairs = link(persons, deaths, model)
    planted = {t.subject for t in read_ground_truth(demo.data_dir) if t.rule == "deceased-listed"}
    linked = {p.left for p in pairs}
    assert planted <= linked
    assert all(p.right.startswith("KT") and p.left.startswith("NK") for p in pairs)
    as_json = pairs[0].as_dict()
    assert set(as_json) == {"left", "right", "probability", "explanation"}


def test_linked_pair_shape() -> None:
    pair = LinkedPair("A", "B", 0.5, {"prior": -1.0})
    assert pair.as_dict() == {
        "left": "A",
        "right": "B",
        "probability": 0.5,
        "explanation": {"prior": -1.0},
    }


def test_training_needs_records(tmp_path: Path) -> None:
    from vigil.core.errors import ValidationError

    with pytest.raises(ValidationError):
        train(linkage_records(pa.table({"person_id": ["x"], "full_name": ["An"]})))


def test_a_commune_sized_registry_without_duplicates_trains_and_proposes_nothing() -> None:
    """No two records share a citizen ID (that EM pass has no pair) and no near-certain pair
    exists (the prior is zero): training still finishes and no pair is proposed."""
    families, givens = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng"], ["An", "Bình", "Chi", "Dũng"]
    names = [f"{f} Văn {g}" for f in families for g in givens]
    table = pa.table(
        {
            "person_id": [f"NK{i:03d}" for i in range(len(names))],
            "full_name": names,
            "birth_date": [date(1950 + i, 1 + i % 12, 1 + i % 28) for i in range(len(names))],
            "citizen_id": [f"0461{i:08d}" for i in range(len(names))],
        }
    )
    records = linkage_records(table)
    model = train(records)
    assert model.settings["probability_two_random_records_match"] == 0.0
    assert dedupe(records, model) == []
