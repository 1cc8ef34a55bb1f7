"""Times typed by people are read one way everywhere: local time unless an offset says otherwise."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigil.core.clock import (
    PROVINCE_TZ,
    local_day,
    local_day_bounds,
    parse_local_day,
    parse_local_time,
    parse_optional_time,
)
from vigil.core.errors import Location, ValidationError
from vigil.core.problems import InputProblem, ProblemSeverity


def test_a_time_without_offset_is_the_provinces_wall_clock() -> None:
    assert parse_local_time("2026-03-14 07:00") == datetime(2026, 3, 14, 0, 0)
    assert parse_local_time("2026-03-14T07:00") == datetime(2026, 3, 14, 0, 0)
    assert parse_local_time(" 2026-03-14 07:00 ") == datetime(2026, 3, 14, 0, 0)


def test_a_date_alone_is_its_local_midnight() -> None:
    assert parse_local_time("2026-03-14") == datetime(2026, 3, 13, 17, 0)


def test_an_offset_means_what_it_says() -> None:
    assert parse_local_time("2026-03-14T07:00Z") == datetime(2026, 3, 14, 7, 0)
    assert parse_local_time("2026-03-14T07:00+01:00") == datetime(2026, 3, 14, 6, 0)


def test_bad_text_names_the_field_and_shows_an_example() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_local_time("14/03/2026", "--since")
    assert str(caught.value) == "--since: not a date and time: '14/03/2026' (use 2026-03-14 07:00)"
    with pytest.raises(ValidationError, match=r"^--date: not a date: 'tomorrow'"):
        parse_local_day("tomorrow", "--date")


def test_blank_optional_time_is_none() -> None:
    assert parse_optional_time(None) is None
    assert parse_optional_time("   ") is None
    assert parse_optional_time("2026-03-14 07:00") == datetime(2026, 3, 14, 0, 0)


def test_day_bounds_are_local_midnight_to_midnight_in_utc() -> None:
    start, end = local_day_bounds(date(2027, 3, 14))
    assert (start, end) == (datetime(2027, 3, 13, 17, 0), datetime(2027, 3, 14, 17, 0))
    assert local_day(start) == date(2027, 3, 14)
    assert local_day(end - timedelta(microseconds=1)) == date(2027, 3, 14)
    assert local_day(end) == date(2027, 3, 15)


@given(st.datetimes(min_value=datetime(1971, 1, 2), max_value=datetime(9998, 12, 30)))
def test_a_local_time_written_out_reads_back_as_the_same_instant(moment: datetime) -> None:
    utc = moment.replace(microsecond=0)
    written = utc.replace(tzinfo=UTC).astimezone(PROVINCE_TZ).strftime("%Y-%m-%d %H:%M:%S")
    assert parse_local_time(written) == utc
    start, end = local_day_bounds(local_day(utc))
    assert start <= utc < end


def test_an_input_problem_says_where_how_bad_and_what() -> None:
    problem = InputProblem.error(
        "rules/bad.yml", "mapping values are not allowed here", line=7, code="yaml"
    )
    assert problem.location == Location("rules/bad.yml", 7)
    assert problem.is_error and problem.severity is ProblemSeverity.ERROR
    assert str(problem) == "rules/bad.yml:7: error [yaml]: mapping values are not allowed here"
    assert problem.as_dict() == {
        "source": "rules/bad.yml",
        "line": 7,
        "record": None,
        "severity": "error",
        "code": "yaml",
        "message": "mapping values are not allowed here",
    }
    warning = InputProblem.warning("feed.json", "revoked", record="indicator--1")
    assert not warning.is_error
    assert str(warning) == "feed.json [indicator--1]: warning: revoked"
