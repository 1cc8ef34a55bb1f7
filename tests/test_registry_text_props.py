"""Property tests of the registry's normalisers: citizen IDs, dates of birth, names."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from vigil.registry.citizen_id import citizen_id_problem, sex_century_digit
from vigil.registry.text import (
    fold,
    normalise_citizen_id,
    normalise_name,
    parse_birth_date,
    split_name,
    strip_diacritics,
)

LETTERS = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
)
words = st.text(alphabet=LETTERS + LETTERS.upper(), min_size=1, max_size=8)
names = st.lists(words, min_size=1, max_size=5)
dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31))


@given(names, st.sampled_from([" ", "  ", "\t"]))
def test_name_normalising_is_idempotent_and_keeps_the_words(parts: list[str], gap: str) -> None:
    name = normalise_name(gap.join(parts))
    assert name is not None
    assert normalise_name(name) == name
    assert [w.lower() for w in name.split(" ")] == [p.lower() for p in parts]
    assert fold(name) == strip_diacritics(" ".join(parts)).lower()
    assert fold(name).isascii()


@given(names)
def test_split_name_puts_family_first_and_given_last(parts: list[str]) -> None:
    split = split_name(" ".join(parts))
    assert split.given == parts[-1]
    if len(parts) > 1:
        assert split.family == parts[0]
        assert (split.middle or "") == " ".join(parts[1:-1])


@given(dates)
def test_every_written_form_of_a_date_reads_back(day: date) -> None:
    for text in (
        day.isoformat(),
        f"{day.day}/{day.month}/{day.year}",
        f"{day.day:02d}.{day.month:02d}.{day.year}",
        f"{day.year}{day.month:02d}{day.day:02d}",
    ):
        assert parse_birth_date(text) == day


@given(dates, st.booleans(), st.integers(0, 999_999), st.sampled_from(["046", "001", "079"]))
def test_a_well_made_id_is_valid_however_it_is_typed(
    born: date, male: bool, serial: int, province: str
) -> None:
    cid = f"{province}{sex_century_digit(born.year, male)}{born.year % 100:02d}{serial:06d}"
    sex = "Nam" if male else "Nữ"
    assert citizen_id_problem(cid, born, sex) is None
    spaced = f"{cid[:3]} {cid[3:6]}.{cid[6:9]}-{cid[9:]}"
    assert normalise_citizen_id(spaced) == cid
    assert normalise_citizen_id(int(cid)) == cid  # a number column lost the leading zero
    assert citizen_id_problem(cid, born, "Nữ" if male else "Nam") == "sex_century"
