"""DuckDB SQL for Sigma: a pySigma text backend whose tokens and templates are class-level data.

A converted rule is a WHERE expression over the columns of `monitor_events`. Sigma matches
strings case-insensitively unless `|cased` is given, and a field that is absent never matches,
so `not` is written as `(...) IS NOT TRUE`: SQL's NOT of NULL would drop events that Sigma keeps.
`field: null` means "no value": the field is absent or present but empty (Sysmon writes an empty
`StartModule`; SigmaHQ rules say `null` and `''` alike for it), as Zircolite reads it.

Case-insensitive matches read the folded column `"<field>#lower"` (lower-cased text of the
field), which the runner materialises once per batch: lower-casing the same text once instead of
once per rule makes 2,000 rules about ten times faster. `FOLDED_SUFFIX` and `folded_column()`
say how to provide it to run a rule by hand.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any, ClassVar, Literal, cast

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionItem,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.conversion.base import TextQueryBackend
from sigma.conversion.deferred import DeferredQueryExpression
from sigma.conversion.state import ConversionState
from sigma.correlations import SigmaCorrelationConditionOperator
from sigma.types import (
    CompareOperators,
    SigmaExpansion,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaString,
    SpecialChars,
    TimestampPart,
)

from vigil.monitor.ingest.events import FULL_TEXT_COLUMN

Shape = Literal["eq", "startswith", "endswith", "contains", "like"]

#: Columns of monitor_events that hold numbers; every other column is text.
NUMERIC_COLUMNS = frozenset({"event_code"})
#: Suffix of a folded column: "Image#lower" is lower(CAST("Image" AS VARCHAR)).
FOLDED_SUFFIX = "#lower"


def folded_column(column: str) -> str:
    """The SQL that computes a folded column from its field (for runners and by-hand queries)."""
    return "lower(CAST(" + quote_identifier(column) + " AS VARCHAR))"


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def referenced_columns(sql: str) -> set[str]:
    """Names of the quoted identifiers in `sql` (skipping string literals): the columns it reads."""
    names: set[str] = set()
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in "'\"":
            j, buf = i + 1, []
            while j < n:
                if sql[j] == ch:
                    if j + 1 < n and sql[j + 1] == ch:  # doubled quote inside
                        buf.append(ch)
                        j += 2
                        continue
                    break
                buf.append(sql[j])
                j += 1
            if ch == '"':
                names.add("".join(buf))
            i = j + 1
        else:
            i += 1
    return names


# Sliding windows: an event and everything of its group up to `timespan` seconds later.
_WINDOW = (
    " FROM matched WINDOW w AS ({groupby}ORDER BY ts "
    "RANGE BETWEEN CURRENT ROW AND INTERVAL '{timespan} seconds' FOLLOWING)"
)
_WINDOW_EVENTS = ", list(event_id) OVER w AS window_events"
_WINDOW_SPAN = re.compile(r"INTERVAL '(\d+) seconds' FOLLOWING\)")


def window_seconds(sql: str) -> int | None:
    """The longest sliding window of a converted correlation (what `_WINDOW` wrote), if any."""
    spans = [int(m) for m in _WINDOW_SPAN.findall(sql)]
    return max(spans) if spans else None


def sql_string(text: str) -> str:
    """A SQL string literal: quotes doubled, backslashes literal (DuckDB's standard strings)."""
    return "'" + text.replace("'", "''") + "'"


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class DuckDBBackend(TextQueryBackend):
    """Sigma rules as DuckDB WHERE expressions over monitor_events."""

    name: ClassVar[str] = "Vigil DuckDB"
    formats: ClassVar[dict[str, str]] = {"default": "WHERE expression over monitor_events"}
    requires_pipeline: ClassVar[bool] = True

    precedence: ClassVar[tuple[type[ConditionItem], type[ConditionItem], type[ConditionItem]]] = (
        ConditionNOT,
        ConditionAND,
        ConditionOR,
    )
    group_expression: ClassVar[str] = "({expr})"
    or_token: ClassVar[str] = "OR"  # noqa: S105 (a query token, not a secret)
    and_token: ClassVar[str] = "AND"  # noqa: S105
    not_token: ClassVar[str] = "NOT"  # noqa: S105
    eq_token: ClassVar[str] = " = "  # noqa: S105
    #: Absent fields are NULL; "not X" must hold for them, as Sigma means it.
    not_expression: ClassVar[str] = "({expr}) IS NOT TRUE"

    field_quote: ClassVar[str] = '"'
    field_quote_pattern: ClassVar[None] = None  # always quote: EventData names are free text
    field_escape: ClassVar[str] = '"'
    field_escape_quote: ClassVar[bool] = True

    str_quote: ClassVar[str] = "'"
    wildcard_multi: ClassVar[str] = "%"
    wildcard_single: ClassVar[str] = "_"
    bool_values: ClassVar[dict[bool, str | None]] = {True: "'true'", False: "'false'"}

    #: String matches by (case sensitive?, shape); {value} is a SQL literal already lower-cased
    #: when the match ignores case. DuckDB runs starts_with/ends_with/contains without a pattern.
    string_match_expressions: ClassVar[dict[tuple[bool, Shape], str]] = {
        (False, "eq"): "{field} = {value}",
        (False, "startswith"): "starts_with({field}, {value})",
        (False, "endswith"): "ends_with({field}, {value})",
        (False, "contains"): "contains({field}, {value})",
        (False, "like"): "{field} LIKE {value} ESCAPE '\\'",
        (True, "eq"): "{field} = {value}",
        (True, "startswith"): "starts_with({field}, {value})",
        (True, "endswith"): "ends_with({field}, {value})",
        (True, "contains"): "contains({field}, {value})",
        (True, "like"): "{field} LIKE {value} ESCAPE '\\'",
    }
    in_list_expression: ClassVar[str] = "{field} IN ({values})"
    #: Text columns compared with a number compare as text ("LogonType: 3" matches '3').
    numeric_text_expression: ClassVar[str] = "CAST({field} AS VARCHAR)"

    re_expression: ClassVar[str] = "regexp_matches({field}, {regex})"
    #: At least this many plain string matches ORed on one field become one regex.
    min_alternation: ClassVar[int] = 4
    alternation_expression: ClassVar[str] = "regexp_matches({field}, {regex})"
    re_escape_char: ClassVar[str] = "\\"
    re_escape: ClassVar[list[str]] = []
    re_escape_escape_char: bool = False

    compare_op_expression: ClassVar[str] = "TRY_CAST({field} AS DOUBLE) {operator} {value}"
    compare_operators: ClassVar[dict[CompareOperators, str]] = {
        CompareOperators.LT: "<",
        CompareOperators.LTE: "<=",
        CompareOperators.GT: ">",
        CompareOperators.GTE: ">=",
        CompareOperators.NEQ: "<>",
    }
    #: `field: null`: absent (NULL) or present but empty. Numeric columns are never empty.
    field_null_expression: ClassVar[str] = "({field} IS NULL OR {field} = '')"
    numeric_null_expression: ClassVar[str] = "{field} IS NULL"
    field_exists_expression: ClassVar[str] = "{field} IS NOT NULL"
    field_not_exists_expression: ClassVar[str] = "{field} IS NULL"
    field_equals_field_expression: ClassVar[str] = "{field1} = {field2}"
    field_equals_field_startswith_expression: ClassVar[str] = "starts_with({field1}, {field2})"
    field_equals_field_endswith_expression: ClassVar[str] = "ends_with({field1}, {field2})"
    field_equals_field_contains_expression: ClassVar[str] = "contains({field1}, {field2})"
    field_timestamp_part_expression: ClassVar[str] = (
        "date_part('{timestamp_part}', TRY_CAST({field} AS TIMESTAMP))"
    )
    timestamp_part_mapping: ClassVar[dict[TimestampPart, str]] = {
        TimestampPart.MINUTE: "minute",
        TimestampPart.HOUR: "hour",
        TimestampPart.DAY: "day",
        TimestampPart.WEEK: "week",
        TimestampPart.MONTH: "month",
        TimestampPart.YEAR: "year",
    }

    convert_or_as_in: ClassVar[bool] = True
    convert_and_as_in: ClassVar[bool] = False
    in_expressions_allow_wildcards: ClassVar[bool] = False
    field_in_list_expression: ClassVar[str] = "{field} IN ({list})"
    or_in_operator: ClassVar[str] = "IN"
    list_separator: ClassVar[str] = ", "

    # Correlation rules: the referenced rules' matches, a sliding window per group, a filter.
    correlation_methods: ClassVar[dict[str, str]] = {
        "default": "sliding time window with DuckDB window functions"
    }
    default_correlation_method: ClassVar[str] = "default"
    default_correlation_query: ClassVar[dict[str, str]] = {
        "default": "WITH matched AS (\n{search}\n),\nwindowed AS (\n{aggregate}\n)\n"
        "SELECT * FROM windowed WHERE {condition}"
    }
    correlation_search_multi_rule_expression: ClassVar[str] = "{queries}"
    correlation_search_multi_rule_query_expression: ClassVar[str] = (
        "SELECT *{normalization}, '{ruleid}' AS sigma_rule FROM monitor_events WHERE ({query})"
    )
    correlation_search_multi_rule_query_expression_joiner: ClassVar[str] = "\nUNION ALL BY NAME\n"
    correlation_search_field_normalization_expression: ClassVar[str] = ", {field} AS {alias}"
    correlation_search_field_normalization_expression_joiner: ClassVar[str] = ""
    event_count_aggregation_expression: ClassVar[dict[str, str]] = {
        "default": "SELECT *, count(*) OVER w AS correlation_value" + _WINDOW_EVENTS + _WINDOW
    }
    value_count_aggregation_expression: ClassVar[dict[str, str]] = {
        "default": "SELECT *, count(DISTINCT {field}) OVER w AS correlation_value"
        + _WINDOW_EVENTS
        + _WINDOW
    }
    temporal_aggregation_expression: ClassVar[dict[str, str]] = {
        "default": "SELECT *, count(DISTINCT sigma_rule) OVER w AS correlation_value"
        + _WINDOW_EVENTS
        + _WINDOW
    }
    value_sum_aggregation_expression: ClassVar[dict[str, str]] = {
        "default": "SELECT *, sum(TRY_CAST({field} AS DOUBLE)) OVER w AS correlation_value"
        + _WINDOW_EVENTS
        + _WINDOW
    }
    value_avg_aggregation_expression: ClassVar[dict[str, str]] = {
        "default": "SELECT *, avg(TRY_CAST({field} AS DOUBLE)) OVER w AS correlation_value"
        + _WINDOW_EVENTS
        + _WINDOW
    }
    timespan_seconds: ClassVar[bool] = True
    referenced_rules_expression: ClassVar[dict[str, str]] = {"default": "'{ruleid}'"}
    referenced_rules_expression_joiner: ClassVar[dict[str, str]] = {"default": ", "}
    groupby_expression: ClassVar[dict[str, str]] = {"default": "PARTITION BY {fields} "}
    groupby_field_expression: ClassVar[dict[str, str]] = {"default": "{field}"}
    groupby_field_expression_joiner: ClassVar[dict[str, str]] = {"default": ", "}
    groupby_expression_nofield: ClassVar[dict[str, str]] = {"default": ""}
    event_count_condition_expression: ClassVar[dict[str, str]] = {
        "default": "correlation_value {op} {count}"
    }
    value_count_condition_expression: ClassVar[dict[str, str]] = {
        "default": "correlation_value {op} {count}"
    }
    temporal_condition_expression: ClassVar[dict[str, str]] = {
        "default": "correlation_value {op} {count}"
    }
    value_sum_condition_expression: ClassVar[dict[str, str]] = {
        "default": "correlation_value {op} {count}"
    }
    value_avg_condition_expression: ClassVar[dict[str, str]] = {
        "default": "correlation_value {op} {count}"
    }
    correlation_condition_mapping: ClassVar[dict[SigmaCorrelationConditionOperator, str | None]] = {
        SigmaCorrelationConditionOperator.LT: "<",
        SigmaCorrelationConditionOperator.LTE: "<=",
        SigmaCorrelationConditionOperator.GT: ">",
        SigmaCorrelationConditionOperator.GTE: ">=",
        SigmaCorrelationConditionOperator.EQ: "=",
        SigmaCorrelationConditionOperator.NEQ: "<>",
    }

    # --- values --------------------------------------------------------------------------

    def convert_value_str(self, s: SigmaString, state: ConversionState) -> str:
        """A plain SQL literal (used for in-lists and rule ids, where no wildcard occurs)."""
        return sql_string(_plain_text(s))

    def convert_value_re(
        self, r: SigmaRegularExpression, state: ConversionState
    ) -> str | DeferredQueryExpression:
        escaped = super().convert_value_re(r, state)
        return sql_string(str(escaped))

    def _text_field(self, field: str, cased: bool = True) -> str:
        """The column a string comparison reads: the field, or its folded column."""
        if not cased:
            return self.escape_and_quote_field(field + FOLDED_SUFFIX)
        quoted = self.escape_and_quote_field(field)
        if field in NUMERIC_COLUMNS:
            return self.numeric_text_expression.format(field=quoted)
        return quoted

    def _string_match(self, field: str, value: SigmaString, cased: bool) -> str:
        shape, literal = _shape_of(value, cased)
        return self.string_match_expressions[(cased, shape)].format(
            field=self._text_field(field, cased), value=literal
        )

    def convert_condition_field_eq_field_escape_and_quote(
        self, field1: str, field2: str
    ) -> tuple[str, str]:
        return self._text_field(field1, cased=False), self._text_field(field2, cased=False)

    # --- field = value -------------------------------------------------------------------

    def convert_condition_field_eq_val_str(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str | DeferredQueryExpression:
        return self._string_match(cond.field, cast(SigmaString, cond.value), cased=False)

    def convert_condition_field_eq_val_str_case_sensitive(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str | DeferredQueryExpression:
        return self._string_match(cond.field, cast(SigmaString, cond.value), cased=True)

    def convert_condition_field_eq_val_num(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str | DeferredQueryExpression:
        field = self.escape_and_quote_field(cond.field)
        if cond.field in NUMERIC_COLUMNS:
            return f"{field}{self.eq_token}{cond.value}"
        return f"{field}{self.eq_token}{sql_string(str(cond.value))}"

    def convert_condition_as_in_expression(
        self, cond: ConditionOR | ConditionAND, state: ConversionState
    ) -> str | DeferredQueryExpression:
        args = cast(list[ConditionFieldEqualsValueExpression], cond.args)
        field = args[0].field
        values = [arg.value for arg in args]
        if field in NUMERIC_COLUMNS and all(isinstance(v, SigmaNumber) for v in values):
            listed = ", ".join(str(v) for v in values)
            return self.field_in_list_expression.format(
                field=self.escape_and_quote_field(field), list=listed
            )
        texts = [(_plain_text(v) if isinstance(v, SigmaString) else str(v)).lower() for v in values]
        return self.in_list_expression.format(
            field=self._text_field(field, cased=False),
            values=", ".join(sql_string(t) for t in texts),
        )

    def convert_condition_field_eq_val_null(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str | DeferredQueryExpression:
        template = (
            self.numeric_null_expression
            if cond.field in NUMERIC_COLUMNS
            else self.field_null_expression
        )
        return template.format(field=self.escape_and_quote_field(cond.field))

    # --- not, keywords -------------------------------------------------------------------

    def convert_condition_or(
        self, cond: ConditionOR, state: ConversionState
    ) -> str | DeferredQueryExpression | None:
        """OR of plain string matches on one field becomes one regular expression.

        DuckDB plans a long OR of contains() slowly (a millisecond per few dozen terms) and runs
        it as many passes; RE2 compiles an alternation of literals into one automaton.
        """
        alternatives: dict[str, list[str]] = defaultdict(list)
        rest: list[Any] = []
        for arg in cond.args:
            for field, value in _string_alternatives(arg):
                if field is None:
                    rest.append(arg)
                    break
                alternatives[field].append(value)
        merged = {f: v for f, v in alternatives.items() if len(v) >= self.min_alternation}
        if not merged:
            return super().convert_condition_or(cond, state)
        parts: list[str] = [
            self.alternation_expression.format(
                field=self.escape_and_quote_field(field + FOLDED_SUFFIX),
                regex=sql_string("|".join(dict.fromkeys(patterns))),
            )
            for field, patterns in merged.items()
        ]
        for arg in cond.args:
            if any(f is None or f not in merged for f, _ in _string_alternatives(arg)):
                converted = (
                    self.convert_condition(arg, state)
                    if self.compare_precedence(cond, arg)
                    else self.convert_condition_group(arg, state)
                )
                parts.append(str(converted))
        return f" {self.or_token} ".join(parts)

    def convert_condition_not(
        self, cond: ConditionNOT, state: ConversionState
    ) -> str | DeferredQueryExpression:
        arg = cond.args[0]
        expr = self.convert_condition(
            cast(
                ConditionItem | ConditionFieldEqualsValueExpression | ConditionValueExpression, arg
            ),
            state,
        )
        return self.not_expression.format(expr=expr)

    def convert_condition_val_str(
        self, cond: ConditionValueExpression, state: ConversionState
    ) -> str | DeferredQueryExpression:
        value = cast(SigmaString, cond.value)
        # A keyword is found anywhere in the event's text.
        if not value.startswith(SpecialChars.WILDCARD_MULTI):
            value = SigmaString("*") + value
        if not value.endswith(SpecialChars.WILDCARD_MULTI):
            value = value + SigmaString("*")
        return self._string_match(FULL_TEXT_COLUMN, value, cased=False)

    def convert_condition_val_num(
        self, cond: ConditionValueExpression, state: ConversionState
    ) -> str | DeferredQueryExpression:
        return self._string_match(FULL_TEXT_COLUMN, SigmaString(f"*{cond.value}*"), cased=False)

    def convert_condition_val_re(
        self, cond: ConditionValueExpression, state: ConversionState
    ) -> str | DeferredQueryExpression:
        regex = self.convert_value_re(cast(SigmaRegularExpression, cond.value), state)
        return self.re_expression.format(
            field=self.escape_and_quote_field(FULL_TEXT_COLUMN), regex=regex
        )

    def finalize_query_default(
        self, rule: Any, query: str, index: int, state: ConversionState
    ) -> str:
        return query


_RE2_SPECIAL = frozenset("\\.+*?()|[]{}^$")


def _re2_literal(text: str) -> str:
    return "".join("\\" + c if c in _RE2_SPECIAL else c for c in text)


def _string_alternatives(arg: Any) -> list[tuple[str | None, str]]:
    """(field, RE2 pattern) for each plain case-insensitive string match in `arg`; (None, "")
    when `arg` is anything else. Sigma expansions (windash, base64offset) give several."""
    if isinstance(arg, ConditionValueExpression) and type(arg.value) is SigmaString:
        field, values = FULL_TEXT_COLUMN, [arg.value]
        keyword = True
    elif isinstance(arg, ConditionFieldEqualsValueExpression) and arg.field not in NUMERIC_COLUMNS:
        keyword = False
        field = arg.field
        if type(arg.value) is SigmaString:
            values = [arg.value]
        elif isinstance(arg.value, SigmaExpansion) and all(
            type(v) is SigmaString for v in arg.value.values
        ):
            values = [cast(SigmaString, v) for v in arg.value.values]
        else:
            return [(None, "")]
    else:
        return [(None, "")]
    out: list[tuple[str | None, str]] = []
    for value in values:
        parts = list(value.s)
        lead = bool(parts) and parts[0] is SpecialChars.WILDCARD_MULTI
        trail = len(parts) > int(lead) and parts[-1] is SpecialChars.WILDCARD_MULTI
        core = parts[int(lead) : len(parts) - int(trail)]
        if not core or not all(isinstance(p, str) for p in core):
            return [(None, "")]
        literal = _re2_literal("".join(cast(list[str], core)).lower())
        if keyword:
            lead = trail = True
        out.append((field, ("" if lead else "^") + literal + ("" if trail else "$")))
    return out


def _plain_text(value: SigmaString) -> str:
    """The text of a string without wildcards (they are kept as the characters * and ?)."""
    out: list[str] = []
    for part in value.s:
        if isinstance(part, str):
            out.append(part)
        elif part is SpecialChars.WILDCARD_MULTI:
            out.append("*")
        elif part is SpecialChars.WILDCARD_SINGLE:
            out.append("?")
        else:  # an unexpanded placeholder
            raise NotImplementedError(f"placeholder {part} has no value in this deployment")
    return "".join(out)


_SHAPES: dict[tuple[bool, bool], Shape] = {
    (False, False): "eq",
    (False, True): "startswith",
    (True, False): "endswith",
    (True, True): "contains",
}


def _shape_of(value: SigmaString, cased: bool) -> tuple[Shape, str]:
    """How to match a Sigma string: plain equality, prefix, suffix, infix or a LIKE pattern."""
    parts = list(value.s)
    lead = bool(parts) and parts[0] is SpecialChars.WILDCARD_MULTI
    trail = len(parts) > int(lead) and parts[-1] is SpecialChars.WILDCARD_MULTI
    core = parts[int(lead) : len(parts) - int(trail)]
    fold = (lambda t: t) if cased else str.lower
    if all(isinstance(p, str) for p in core):
        text = fold("".join(cast(list[str], core)))
        shape = _SHAPES[(lead, trail)]
        return shape, sql_string(text)
    pattern: list[str] = []
    for part in parts:
        if isinstance(part, str):
            pattern.append(_like_escape(fold(part)))
        elif part is SpecialChars.WILDCARD_MULTI:
            pattern.append("%")
        elif part is SpecialChars.WILDCARD_SINGLE:
            pattern.append("_")
        else:
            raise NotImplementedError(f"placeholder {part} has no value in this deployment")
    return "like", sql_string("".join(pattern))
