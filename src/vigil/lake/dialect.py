"""The SQL that DuckDB and Spark spell differently, declared once per engine as data.

Rooms write their SQL once, asking the lake's dialect for the pieces that differ (a quoted name,
a string literal, an array turned into rows, a regular-expression match...) and never branch on
the engine. Everything not here is written the same way on both engines: `CASE`, `IN`, `LIKE`,
`IS NOT TRUE`, `lower`, `TRY_CAST(... AS DOUBLE)`, `date_part`, window functions, `array_agg`.
The Spark engine sets its session so that this holds (double-quoted identifiers, time zone UTC,
timestamps without a zone: see `vigil.lake.spark_engine`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vigil.core.errors import LakeError

#: How Vigil's SQL names a parameter, whatever the engine: `$name`.
PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
#: A quoted name, by either engine's quotes (Spark reads both: see `spark_engine.SQL_SETTINGS`).
QUOTED_NAME = r'"(?:[^"]|"")*"|`(?:[^`]|``)*`'
#: The units `truncate` accepts, spelled alike on both engines (weeks start on Monday on both).
DATE_UNITS = frozenset({"second", "minute", "hour", "day", "week", "month", "quarter", "year"})


@dataclass(frozen=True)
class Dialect:
    """One engine's spelling of the SQL that differs. Each template names its holes."""

    name: str
    #: Quotes an identifier; the quote inside a name is doubled.
    identifier_quote: str
    #: Replacements applied, in order, to text put in a '...' literal.
    string_escapes: tuple[tuple[str, str], ...]
    #: A string literal as the engine reads it (so parameters inside one are left alone).
    string_pattern: str
    #: A named parameter: `{name}`.
    parameter: str
    #: The type that CAST turns a value into text with.
    text_type: str
    #: An array of SQL expressions: `{items}`, comma-separated.
    array: str
    #: One row per element of an array, in a SELECT list: `{array}`.
    array_to_rows: str
    #: A regular-expression search (anywhere in the text): `{text}`, `{pattern}`.
    regex_match: str
    #: The same, ignoring case (Unicode letters too: Java needs the `u` flag for that).
    regex_match_ignore_case: str
    #: `{text}` begins / ends with / holds `{part}`, case-sensitive.
    starts_with: str
    ends_with: str
    contains: str
    #: `{text}` matches the LIKE `{pattern}` ignoring case.
    ilike: str
    #: Text or a timestamp as a timestamp without a zone; NULL for text that is not one.
    to_timestamp: str
    #: `{value}` cut down to the start of its `{unit}`, as a timestamp without a zone.
    date_trunc: str
    #: Whole seconds from `{start}` to `{end}`.
    seconds_between: str
    #: Parquet files as a relation: a file, folder or glob as a `{literal}` or an `{identifier}`.
    parquet_scan: str
    #: Statements that copy a registered in-memory `{view}` into the engine's own storage as
    #: `{table}`, replacing an earlier copy, when the engine reads its own storage faster than
    #: the caller's memory (none: read the view itself).
    materialize: tuple[str, ...]

    # --- names and values ---------------------------------------------------------------

    def quote(self, name: str) -> str:
        """An identifier, quoted whatever it holds (`#`, spaces, Vietnamese letters)."""
        q = self.identifier_quote
        return q + name.replace(q, q + q) + q

    def literal(self, text: str) -> str:
        """A string literal that reads back as `text` on this engine."""
        for old, new in self.string_escapes:
            text = text.replace(old, new)
        return "'" + text + "'"

    def param(self, name: str) -> str:
        return self.parameter.format(name=name)

    def bind(self, sql: str) -> str:
        """Vigil's `$name` parameters written as this engine names them; literals and quoted
        names untouched."""
        if self.parameter == "${name}":
            return sql
        tokens = re.compile(f"{self.string_pattern}|{QUOTED_NAME}|{PARAMETER.pattern}")
        return tokens.sub(lambda m: self.param(m.group(1)) if m.group(1) else m.group(0), sql)

    def as_text(self, value: str) -> str:
        return f"CAST({value} AS {self.text_type})"

    # --- arrays ---------------------------------------------------------------------------

    def array_of(self, items: list[str]) -> str:
        return self.array.format(items=", ".join(items))

    def rows_of(self, array: str) -> str:
        return self.array_to_rows.format(array=array)

    # --- text -----------------------------------------------------------------------------

    def matches(self, text: str, pattern: str, *, ignore_case: bool = False) -> str:
        template = self.regex_match_ignore_case if ignore_case else self.regex_match
        return template.format(text=text, pattern=pattern)

    def begins(self, text: str, part: str) -> str:
        return self.starts_with.format(text=text, part=part)

    def ends(self, text: str, part: str) -> str:
        return self.ends_with.format(text=text, part=part)

    def holds(self, text: str, part: str) -> str:
        return self.contains.format(text=text, part=part)

    def like_ignoring_case(self, text: str, pattern: str) -> str:
        return self.ilike.format(text=text, pattern=pattern)

    # --- time -----------------------------------------------------------------------------

    def timestamp(self, value: str) -> str:
        return self.to_timestamp.format(value=value)

    def truncate(self, unit: str, value: str) -> str:
        if unit not in DATE_UNITS:
            raise LakeError(f"unknown date unit {unit!r}: choose one of {sorted(DATE_UNITS)}")
        return self.date_trunc.format(unit=unit, value=value)

    def seconds(self, start: str, end: str) -> str:
        return self.seconds_between.format(start=start, end=end)

    # --- relations ------------------------------------------------------------------------

    def scan_parquet(self, path: str) -> str:
        """Parquet files as a relation; `path` is a file, a folder or a glob (`dir/*.parquet`).

        Files whose columns differ are read together, a column absent from a file being NULL.
        """
        return self.parquet_scan.format(literal=self.literal(path), identifier=self.quote(path))

    def materialize_as(self, table: str, view: str) -> list[str]:
        """The statements that copy `view` into `table`; none when the view is read as it is."""
        return [statement.format(table=table, view=view) for statement in self.materialize]


DUCKDB = Dialect(
    name="duckdb",
    identifier_quote='"',
    # Standard SQL strings: a backslash is just a backslash.
    string_escapes=(("'", "''"),),
    string_pattern=r"'(?:[^']|'')*'",
    parameter="${name}",
    text_type="VARCHAR",
    array="[{items}]",
    array_to_rows="unnest({array})",
    regex_match="regexp_matches({text}, {pattern})",
    regex_match_ignore_case="regexp_matches({text}, {pattern}, 'i')",
    starts_with="starts_with({text}, {part})",
    ends_with="ends_with({text}, {part})",
    contains="contains({text}, {part})",
    ilike="{text} ILIKE {pattern}",
    to_timestamp="TRY_CAST({value} AS TIMESTAMP)",
    date_trunc="date_trunc('{unit}', {value})",
    # date_sub counts whole seconds elapsed, as Spark's timestampdiff does; date_diff would
    # count the second boundaries crossed (00:00:00.9 to 00:00:01.1 is one).
    seconds_between="date_sub('second', {start}, {end})",
    parquet_scan="read_parquet({literal}, union_by_name = true, hive_partitioning = false)",
    # DuckDB reads the Arrow table directly: one scan per group, and a copy cost more than it
    # saved (measured on the Sigma runner).
    materialize=(),
)

SPARK = Dialect(
    name="spark",
    identifier_quote="`",
    # Spark reads backslash escapes inside string literals.
    string_escapes=(("\\", "\\\\"), ("'", "\\'")),
    string_pattern=r"'(?:[^'\\]|\\.|'')*'",
    parameter=":{name}",
    # VARCHAR needs a length on Spark.
    text_type="STRING",
    array="array({items})",
    array_to_rows="explode({array})",
    regex_match="regexp({text}, {pattern})",
    regex_match_ignore_case="regexp({text}, '(?iu)' || {pattern})",
    starts_with="startswith({text}, {part})",
    ends_with="endswith({text}, {part})",
    contains="contains({text}, {part})",
    ilike="{text} ILIKE {pattern}",
    to_timestamp="TRY_CAST({value} AS TIMESTAMP_NTZ)",
    # date_trunc gives a timestamp in the session's zone; the lake's are without one.
    date_trunc="CAST(date_trunc('{unit}', {value}) AS TIMESTAMP_NTZ)",
    seconds_between="timestampdiff(SECOND, {start}, {end})",
    parquet_scan="parquet.{identifier}",
    # The copy stays in the executors' memory, where every query of the group reads it, instead
    # of the table going out from the driver with each query.
    # CACHE TABLE refuses a name in use; dropping the view also frees the earlier copy.
    materialize=("DROP VIEW IF EXISTS {table}", "CACHE TABLE {table} AS SELECT * FROM {view}"),
)

DIALECTS = {d.name: d for d in (DUCKDB, SPARK)}


def dialect_for(engine: str) -> Dialect:
    """The dialect of an engine by its name, without opening the engine."""
    found = DIALECTS.get(engine)
    if found is None:
        raise LakeError(f"no SQL dialect for engine {engine!r}: choose {' or '.join(DIALECTS)}")
    return found
