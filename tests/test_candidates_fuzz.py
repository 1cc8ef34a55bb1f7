"""Hypothesis on the declaration parser: any bytes, any cell, never a crash, nothing lost."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.candidates.declarations import Declaration, RowError, parse_row, read_declarations
from vigil.candidates.errors import CandidatesError
from vigil.candidates.mapping import COLUMNS, Mapping
from vigil.candidates.names import fold, same_name

cells = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)


@given(st.dictionaries(st.sampled_from(COLUMNS), cells))
def test_a_row_is_a_declaration_or_one_reason(record: dict[str, str]) -> None:
    try:
        d = parse_row(record, Mapping(), 2)
    except RowError as e:
        assert str(e)
        return
    assert isinstance(d, Declaration)
    assert d.candidate_id and d.full_name
    assert all(name == name.strip() and name for name in (*d.spouse, *d.parents, *d.children))


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=600), st.sampled_from([b"", "\ufeff".encode(), b"\xff\xfe"]))
def test_any_bytes_read_or_refused_with_a_place(body: bytes, prefix: bytes) -> None:
    header = ",".join(COLUMNS).encode()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.csv"
        path.write_bytes(prefix + header + b"\n" + body)
        try:
            result = read_declarations(path, Mapping())
        except CandidatesError as e:
            assert e.location is not None and e.location.source == str(path)
            return
        # Every row either became a declaration or a problem with its line: nothing lost.
        assert len(result.declarations) + len(result.problems) == result.rows
        assert all(p.location.line and p.location.line >= 2 for p in result.problems)


@given(st.text(max_size=40))
def test_fold_is_stable_and_a_name_is_its_own(name: str) -> None:
    assert fold(fold(name)) == fold(name)
    assert same_name(name, name)
