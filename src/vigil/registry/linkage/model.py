"""The Splink model of a Vietnamese person: which comparisons, which blocking, how it trains.

Comparisons use only equality and Levenshtein distance, which DuckDB and Spark both have, so the
same model gives the same pairs on either engine (Splink's Jaro-Winkler on Spark needs a jar
built for another Scala than pyspark 4's).

- family, middle and given names each: the same with diacritics, the same without them (a
  name typed without Telex), within one or two edits without them; the family name's weight
  follows its frequency (two Nguyễn agree by chance far more often than two Ông);
- date of birth: the same, day and month swapped (12/05 read as 05/12), same year and month,
  same year;
- citizen ID: the same, two digits transposed, one edit (a typo);
- sex; address: the same address, else the same commune.

Blocking keeps a pair when it shares the citizen ID, or the folded full name and birth year, or
the date of birth and the folded given name, or the date of birth and the folded family name: a
duplicate that differs in one of name, date or ID still shares a block.
"""

from __future__ import annotations

from typing import Any, Literal

import splink.comparison_level_library as cll
from splink import SettingsCreator, block_on
from splink.comparison_library import CustomComparison
from splink.internals.comparison_creator import ComparisonCreator

#: Blocking rules for predictions (and the deterministic rules that estimate the prior).
BLOCKING = (
    ("citizen_id",),
    ("full_ascii", "birth_year"),
    ("birth_date", "given_ascii"),
    ("birth_date", "family_ascii"),
)
#: Rules whose pairs are nearly all the same person, with the share of true pairs they find.
DETERMINISTIC = (("citizen_id", "full_ascii"), ("full_ascii", "birth_date"))
DETERMINISTIC_RECALL = 0.7
#: EM passes: each fixes the columns it blocks on and learns the others.
EM_PASSES = (("citizen_id",), ("birth_date",))

_SWAPPED = (
    '"birth_day_l" = "birth_month_r" AND "birth_month_l" = "birth_day_r" '
    'AND "birth_year_l" = "birth_year_r" AND "birth_day_l" <> "birth_month_l"'
)


# The same digits in another order, two edits apart: two neighbours swapped (a random pair of
# numbers two edits apart rarely holds the same digits).
_TRANSPOSED = (
    'levenshtein("citizen_id_l", "citizen_id_r") <= 2 AND "citizen_digits_l" = "citizen_digits_r"'
)


def _name(column: str, label: str, *, frequent: bool, max_edits: int) -> CustomComparison:
    levels: list[Any] = [
        cll.NullLevel(f"{column}_ascii"),
        cll.ExactMatchLevel(column, term_frequency_adjustments=frequent),
        cll.ExactMatchLevel(f"{column}_ascii"),
    ]
    levels += [cll.LevenshteinLevel(f"{column}_ascii", n) for n in range(1, max_edits + 1)]
    levels.append(cll.ElseLevel())
    return CustomComparison(
        comparison_levels=levels, output_column_name=column, comparison_description=label
    )


def comparisons() -> list[ComparisonCreator | dict[str, Any]]:
    birth = CustomComparison(
        output_column_name="birth_date",
        comparison_description="date of birth",
        comparison_levels=[
            cll.NullLevel("birth_date"),
            cll.ExactMatchLevel("birth_date"),
            cll.CustomLevel(_SWAPPED, "day and month swapped", base_dialect_str="duckdb"),
            cll.And(cll.ExactMatchLevel("birth_year"), cll.ExactMatchLevel("birth_month")),
            cll.ExactMatchLevel("birth_year"),
            cll.ElseLevel(),
        ],
    )
    citizen = CustomComparison(
        output_column_name="citizen_id",
        comparison_description="citizen ID",
        comparison_levels=[
            cll.NullLevel("citizen_id"),
            cll.ExactMatchLevel("citizen_id"),
            cll.CustomLevel(_TRANSPOSED, "two digits transposed", base_dialect_str="duckdb"),
            cll.LevenshteinLevel("citizen_id", 1),
            cll.ElseLevel(),
        ],
    )
    sex = CustomComparison(
        output_column_name="sex",
        comparison_description="sex",
        comparison_levels=[cll.NullLevel("sex"), cll.ExactMatchLevel("sex"), cll.ElseLevel()],
    )
    address = CustomComparison(
        output_column_name="address",
        comparison_description="address",
        comparison_levels=[
            cll.NullLevel("commune"),
            cll.ExactMatchLevel("address_ascii"),
            cll.ExactMatchLevel("commune"),
            cll.ElseLevel(),
        ],
    )
    return [
        _name("family", "family name", frequent=True, max_edits=1),
        _name("middle", "middle name", frequent=False, max_edits=1),
        _name("given", "given name", frequent=False, max_edits=2),
        birth,
        citizen,
        sex,
        address,
    ]


def settings(
    link_type: Literal["dedupe_only", "link_only", "link_and_dedupe"] = "dedupe_only",
) -> SettingsCreator:
    """The untrained model: what Vietnamese records are compared on."""
    return SettingsCreator(
        link_type=link_type,
        unique_id_column_name="unique_id",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=[block_on(*cols) for cols in BLOCKING],
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=False,
        em_convergence=0.001,
        max_iterations=20,
    )
