"""The Splink model of a Vietnamese person: which comparisons, which blocking, how it trains.

Comparisons use only equality and Levenshtein distance, which DuckDB and Spark both have, so the
same model gives the same pairs on either engine (Splink's Jaro-Winkler on Spark needs a jar
built for another Scala than pyspark 4's).

- family, middle and given names each: the same with diacritics, the same without them (a
  name typed without Telex), within one or two edits without them, and a long name (eight
  letters or more) within three; the family name's weight follows its frequency (two Nguyễn
  agree by chance far more often than two Ông); family and given names written the other way
  round (a name entered in Western order, or into the wrong box);
- date of birth: the same, day and month swapped (12/05 read as 05/12), one digit mistyped,
  two (transposed or mistyped), same year and month, same year;
- citizen ID: the same, two digits transposed, one edit (a typo);
- sex; address: the same, its first 16 characters within one edit, within two; locality: the
  same village and commune, the same commune, the same village, the village within two edits,
  the commune within one.

Blocking keeps a pair when it shares the citizen ID, or the name's words (in any order) and the
birth year, or the date of birth and the folded given name, or the date of birth and the folded
family name: a duplicate that differs in one of name, date or ID still shares a block. Broader
rules (one field alone: the name's words, the family or given name, the date of birth, the ID's
digits, the address; or a name and the commune) are added when the records make them affordable
(BROAD, BROAD_BUDGET): all of them on a commune or a small file, none of the name rules on a
province, where a family name is shared by four in ten people.
"""

from __future__ import annotations

from typing import Any, Literal

import splink.comparison_level_library as cll
from splink import SettingsCreator, block_on
from splink.comparison_library import CustomComparison
from splink.internals.comparison_creator import ComparisonCreator

from vigil.lake.dialect import DUCKDB

#: The dialect the custom levels' SQL is written in; Splink translates it for the engine that
#: runs the model (Spark reads DuckDB's double-quoted columns as strings otherwise).
WRITTEN_IN = DUCKDB.name

#: Blocking rules for predictions (and the deterministic rules that estimate the prior).
BLOCKING = (
    ("citizen_id",),
    ("name_key", "birth_year"),
    ("birth_date", "given_ascii"),
    ("birth_date", "family_ascii"),
)
#: Broader blocking rules, each used when the records give it at most BROAD_BUDGET pairs to
#: score: on a commune-sized source they catch a duplicate that differs in almost everything
#: but one field, and on a province they would cost tens of millions of pairs (a family name
#: shared by four in ten people), so there they are left out. Counted once, when training.
BROAD = (
    ("name_key",),
    ("family_ascii",),
    ("given_ascii",),
    ("birth_date",),
    ("citizen_digits",),
    ("address_ascii",),
    ("given_ascii", "commune"),
    ("family_ascii", "commune"),
)
#: Pairs one broad rule may add (DuckDB scores about a million pairs a second here).
BROAD_BUDGET = 1_000_000
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


# Levenshtein distance costs the product of the two lengths: a long address is compared on its
# first 16 characters (the house number and the street or hamlet), which is where a typo matters.
def _address_typo(edits: int) -> str:
    return (
        'levenshtein(substr("address_ascii_l", 1, 16), substr("address_ascii_r", 1, 16)) '
        f"<= {edits}"
    )


#: A name this long that is three edits from another is still more likely the same name.
_LONG_NAME = 8


def _swapped_names(edits: int = 0) -> str:
    """Family and given names written the other way round (each within `edits` edits)."""
    if edits == 0:
        return (
            '"family_ascii_l" = "given_ascii_r" AND "given_ascii_l" = "family_ascii_r" '
            'AND "family_ascii_l" <> "given_ascii_l"'
        )
    # The lengths first: a cheap necessary condition spares most pairs the edit distances.
    return (
        f'abs(length("family_ascii_l") - length("given_ascii_r")) <= {edits} '
        f'AND abs(length("given_ascii_l") - length("family_ascii_r")) <= {edits} '
        f'AND levenshtein("family_ascii_l", "given_ascii_r") <= {edits} '
        f'AND levenshtein("given_ascii_l", "family_ascii_r") <= {edits} '
        f'AND levenshtein("family_ascii_l", "given_ascii_l") > {edits}'
    )


def _long_text(column: str, edits: int, length: int) -> str:
    """Within `edits` edits, both at least `length` characters long."""
    return (
        f'length("{column}_l") >= {length} AND length("{column}_r") >= {length} '
        f'AND levenshtein("{column}_l", "{column}_r") <= {edits}'
    )


def _name(column: str, label: str, *, frequent: bool, max_edits: int) -> CustomComparison:
    levels: list[Any] = [
        cll.NullLevel(f"{column}_ascii"),
        cll.ExactMatchLevel(column, term_frequency_adjustments=frequent),
        cll.ExactMatchLevel(f"{column}_ascii"),
    ]
    levels += [cll.LevenshteinLevel(f"{column}_ascii", n) for n in range(1, max_edits + 1)]
    levels.append(
        cll.CustomLevel(
            _long_text(f"{column}_ascii", 3, _LONG_NAME),
            "long name, three edits",
            base_dialect_str=WRITTEN_IN,
        )
    )
    if column in ("family", "given"):
        # A swap is one piece of evidence: the family name weighs it, the given name says
        # nothing (a level read as null), or two names agreeing would count it twice.
        for edits, label in ((0, "family and given names swapped"), (2, "swapped, with typos")):
            level = cll.CustomLevel(_swapped_names(edits), label, base_dialect_str=WRITTEN_IN)
            levels.append(level if column == "family" else level.configure(is_null_level=True))
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
            cll.CustomLevel(_SWAPPED, "day and month swapped", base_dialect_str=WRITTEN_IN),
            cll.LevenshteinLevel("birth_text", 1),
            cll.LevenshteinLevel("birth_text", 2),
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
            cll.CustomLevel(_TRANSPOSED, "two digits transposed", base_dialect_str=WRITTEN_IN),
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
            cll.NullLevel("address_ascii"),
            cll.ExactMatchLevel("address_ascii"),
            *(
                cll.CustomLevel(
                    _address_typo(n),
                    f"within {n} edit{'s' if n > 1 else ''} (first 16 characters)",
                    base_dialect_str=WRITTEN_IN,
                )
                for n in (1, 2)
            ),
            cll.ElseLevel(),
        ],
    )
    locality = CustomComparison(
        output_column_name="locality",
        comparison_description="village and commune",
        comparison_levels=[
            cll.And(cll.NullLevel("village"), cll.NullLevel("commune")),
            cll.And(cll.ExactMatchLevel("village"), cll.ExactMatchLevel("commune")),
            cll.ExactMatchLevel("commune"),
            cll.ExactMatchLevel("village"),
            cll.LevenshteinLevel("village", 2),
            cll.LevenshteinLevel("commune", 1),
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
        locality,
    ]


def settings(
    link_type: Literal["dedupe_only", "link_only", "link_and_dedupe"] = "dedupe_only",
    blocking: tuple[tuple[str, ...], ...] = BLOCKING,
) -> SettingsCreator:
    """The untrained model: what Vietnamese records are compared on, which pairs are scored."""
    return SettingsCreator(
        link_type=link_type,
        unique_id_column_name="unique_id",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=[block_on(*cols) for cols in blocking],
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=False,
        em_convergence=0.001,
        max_iterations=20,
    )
