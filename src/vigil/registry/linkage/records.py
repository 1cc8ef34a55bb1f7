"""Persons as the linkage model compares them: names split and folded, dates taken apart.

Any table with a person id, a full name and some of birth date, sex, citizen ID, commune,
village and address becomes the same shape, so the registry, the death records and the
candidates' declarations link alike. A source that keeps the name in parts (`family_name`,
`middle_name`, `given_name`) is taken as it is rather than split at spaces: a record whose family
name is missing then keeps its given name as the given name. Done in Arrow compute, so a million
persons take a couple of seconds.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

#: The columns every linkage record has, in order.
RECORD_COLUMNS = (
    "unique_id",
    "family",
    "middle",
    "given",
    "family_ascii",
    "middle_ascii",
    "given_ascii",
    "full_ascii",
    "name_key",
    "birth_date",
    "birth_year",
    "birth_month",
    "birth_day",
    "birth_text",
    "sex",
    "citizen_id",
    "citizen_digits",
    "commune",
    "village",
    "address_ascii",
)
#: What a source may carry besides its id and name; a missing one is null for every row.
OPTIONAL = ("birth_date", "sex", "citizen_id", "commune", "village", "address")
#: The name in parts, when a source keeps it so (instead of one `full_name`).
NAME_PARTS = ("family_name", "middle_name", "given_name")


def _folded(text: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Lower-case ASCII: Đ/đ to d, combining marks dropped, spaces collapsed."""
    lowered = pc.utf8_lower(text)
    lowered = pc.replace_substring(lowered, "đ", "d")
    bare = pc.replace_substring_regex(pc.utf8_normalize(lowered, "NFD"), r"\p{Mn}+", "")
    return pc.utf8_trim_whitespace(pc.replace_substring_regex(bare, r"\s+", " "))


def _empty_to_null(values: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)


def _column(table: pa.Table, name: str, kind: pa.DataType) -> pa.Array:
    if name in table.column_names:
        return pc.cast(table.column(name), kind).combine_chunks()
    return pa.nulls(table.num_rows, kind)


def _sorted_digits(ids: pa.Array) -> pa.Array:
    """Each ID's characters in order: two IDs holding the same digits agree on it."""
    return pa.array(
        [None if v is None else "".join(sorted(v)) for v in ids.to_pylist()], pa.string()
    )


def _clean(values: pa.Array) -> pa.Array:
    """NFC, one space between words, no space at the ends."""
    text = pc.utf8_normalize(values, "NFC")
    return pc.utf8_trim_whitespace(pc.replace_substring_regex(text, r"\s+", " "))


def _name_parts(table: pa.Table) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    """(full name, family, middle, given), lower case: from the parts when the source has them,
    else from `full_name` split as a Vietnamese name is written (family first, given last)."""
    if any(part in table.column_names for part in NAME_PARTS):
        family, middle, given = (
            _empty_to_null(pc.utf8_lower(_clean(_column(table, part, pa.string()))))
            for part in NAME_PARTS
        )
        joined = pc.binary_join_element_wise(
            pc.fill_null(family, ""), pc.fill_null(middle, ""), pc.fill_null(given, ""), " "
        )
        return _clean(joined), family, middle, given
    name = _clean(_column(table, "full_name", pa.string()))
    lower = pc.utf8_lower(name)
    family = _empty_to_null(pc.extract_regex(lower, r"^(?P<v>\S+)\s").field("v"))
    given = _empty_to_null(pc.extract_regex(lower, r"(?P<v>\S+)$").field("v"))
    middle = _empty_to_null(pc.extract_regex(lower, r"^\S+\s+(?P<v>.+)\s+\S+$").field("v"))
    return name, family, middle, given


def _name_key(folded: pa.Array) -> pa.Array:
    """The folded name's words in alphabetical order: the same whichever order they were
    written in (family name first or last)."""
    return pa.array(
        [None if v is None else " ".join(sorted(v.split())) for v in folded.to_pylist()],
        pa.string(),
    )


def _date_text(dates: pa.Array) -> pa.Array:
    """YYYYMMDD, so that a mistyped digit is one edit."""
    return pc.strftime(pc.cast(dates, pa.timestamp("s")), format="%Y%m%d")


def linkage_records(table: pa.Table, id_column: str = "person_id") -> pa.Table:
    """The linkage records of `table` (`id_column`, a `full_name` column or the name's parts
    `family_name`, `middle_name`, `given_name`, and any of the optional others)."""
    name, family, middle, given = _name_parts(table)
    full = _empty_to_null(_folded(name))
    birth = _column(table, "birth_date", pa.date32())
    sex = _column(table, "sex", pa.string())
    cid = _empty_to_null(_column(table, "citizen_id", pa.string()))
    address = _column(table, "address", pa.string())
    columns = {
        "unique_id": pc.cast(table.column(id_column), pa.string()),
        "family": family,
        "middle": middle,
        "given": given,
        "family_ascii": _folded(family),
        "middle_ascii": _folded(middle),
        "given_ascii": _folded(given),
        "full_ascii": full,
        "name_key": _name_key(full),
        "birth_date": birth,
        "birth_year": pc.year(birth),
        "birth_month": pc.month(birth),
        "birth_day": pc.day(birth),
        "birth_text": _date_text(birth),
        "sex": _empty_to_null(sex),
        "citizen_id": cid,
        "citizen_digits": _sorted_digits(cid),
        "commune": _empty_to_null(_column(table, "commune", pa.string())),
        "village": _empty_to_null(_folded(_column(table, "village", pa.string()))),
        "address_ascii": _empty_to_null(_folded(address)),
    }
    return pa.table(columns)
