"""Citizen IDs of the demo: the allocator never repeats a number, the checker reads the layout."""

from __future__ import annotations

from datetime import date

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.registry.citizen_id import (
    PROVINCE_CODES,
    CitizenIdAllocator,
    citizen_id_problem,
    sex_century_digit,
)

people = st.lists(
    st.tuples(
        st.sampled_from(sorted(PROVINCE_CODES)),
        st.integers(1925, 2027),
        st.booleans(),
    ),
    min_size=1,
    max_size=300,
)


def _allocate(ids: CitizenIdAllocator, batch: list[tuple[str, int, bool]]) -> list[str]:
    province = np.array([int(p) for p, _, _ in batch])
    year = np.array([y for _, y, _ in batch])
    digit = np.array([sex_century_digit(y, m) for _, y, m in batch])
    return [f"{n:012d}" for n in ids.allocate(province, digit, year)]


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32), people, people)
def test_allocated_ids_are_valid_distinct_and_known_as_taken(
    seed: int, first: list[tuple[str, int, bool]], second: list[tuple[str, int, bool]]
) -> None:
    ids = CitizenIdAllocator(seed)
    numbers = _allocate(ids, first) + _allocate(ids, second)
    assert len(set(numbers)) == len(numbers)
    for number, (province, year, male) in zip(numbers, first + second, strict=True):
        assert number.startswith(province)
        assert citizen_id_problem(number, date(year, 6, 1), "Nam" if male else "Nữ") is None
        assert ids.taken(number)
    assert not CitizenIdAllocator(seed).taken(numbers[0])


def test_same_seed_same_numbers() -> None:
    batch = [("046", 1980, True), ("046", 1980, True), ("001", 2005, False)]
    assert _allocate(CitizenIdAllocator(5), batch) == _allocate(CitizenIdAllocator(5), batch)
    assert _allocate(CitizenIdAllocator(5), batch) != _allocate(CitizenIdAllocator(6), batch)


def test_problems_are_named() -> None:
    born = date(1987, 4, 29)
    assert citizen_id_problem("046087021012", born, "Nam") is None
    assert citizen_id_problem("046187021012", born, "Nữ") is None
    assert citizen_id_problem(None, born, "Nam") == "missing"
    assert citizen_id_problem("", born, "Nam") == "missing"
    assert citizen_id_problem("04608702101", born, "Nam") == "length"
    assert citizen_id_problem("0460870210O2", born, "Nam") == "not_digits"
    assert citizen_id_problem("04608702101٢", born, "Nam") == "not_digits"  # Arabic-Indic digit
    assert citizen_id_problem("003087021012", born, "Nam") == "province"
    assert citizen_id_problem("046088021012", born, "Nam") == "birth_year"
    assert citizen_id_problem("046187021012", born, "Nam") == "sex_century"
    assert citizen_id_problem("046287021012", born, None) == "sex_century"  # 2087 is not 1987
    assert citizen_id_problem("046287021012", None, None) is None
    assert sex_century_digit(2005, False) == 3


@given(st.text(max_size=20), st.one_of(st.none(), st.dates()), st.sampled_from(["Nam", "Nữ", None]))
def test_the_checker_never_crashes(text: str, born: date | None, sex: str | None) -> None:
    problem = citizen_id_problem(text, born, sex)
    assert problem in (
        None,
        "missing",
        "length",
        "not_digits",
        "province",
        "birth_year",
        "sex_century",
    )
    if problem is None:
        assert len(text) == 12 and text.isdigit() and text[:3] in PROVINCE_CODES
