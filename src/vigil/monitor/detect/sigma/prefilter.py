"""A necessary condition of each rule, in literals: what must occur in the events for it to match.

Planning a SQL query costs about a millisecond; 2,400 rules cost seconds even when no event
could match. So each rule also gets a small tree of literals (`has`: this text occurs in this
column, `nonnull`: this column has a value), joined by `all`/`any`; a literal that must begin
or end the value carries `EDGE` there. Before running a rule over a batch, the runner checks
the tree event by event against the batch's values (`RowChecker`); a rule whose literals do
not occur together in one event cannot match and is not run. The tree over-approximates the
rule (negations and regular expressions count as "possible"), so it never hides a match
(tests/test_monitor_prefilter_props.py checks that on random events).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

import ahocorasick  # type: ignore[import-not-found]
import numpy as np
from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.rule import SigmaRule
from sigma.types import (
    SigmaBool,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaString,
)

from vigil.monitor.ingest.events import FULL_TEXT_COLUMN

#: JSON-able: True, ["has", column, text], ["nonnull", column], ["all"|"any", [nodes]].
Node: TypeAlias = bool | list[Any]


#: Stands for the start or end of a value, in literals and in the values' text (which joins
#: a column's distinct values with it, and starts and ends with it).
EDGE = "\x00"


def _fragments(value: SigmaString, anchored: bool = False) -> list[str]:
    """The literal runs of a Sigma string between its wildcards (and placeholders), lower-cased.

    `anchored`: a run that must begin (or end) the value carries `EDGE` before (or after) it,
    so that `endswith: '\\cmd.exe'` asks for "\\cmd.exe" at the end of a value, not anywhere.
    """
    out: list[str] = []
    run: list[str] = []
    for part in value.s:
        if isinstance(part, str):
            run.append(part)
        else:
            out.append("".join(run))
            run = []
    out.append("".join(run))
    if anchored and out[0]:
        out[0] = EDGE + out[0]
    if anchored and out[-1]:
        out[-1] += EDGE
    return [f.lower() for f in out if f]


def _leaf(field: str, value: Any) -> Node:
    if isinstance(value, SigmaExpansion):
        return _combine("any", [_leaf(field, v) for v in value.values])
    if isinstance(value, SigmaString):
        # Keywords search the full text anywhere; a field's value is matched whole.
        pieces = _fragments(value, anchored=field != FULL_TEXT_COLUMN)
        if not pieces:
            return ["nonnull", field]
        return _combine("all", [["has", field, p] for p in pieces])
    if isinstance(value, SigmaNumber) and not isinstance(value.number, bool):
        return ["has", field, str(value.number).lower()]
    if isinstance(value, SigmaFieldReference):
        return _combine("all", [["nonnull", field], ["nonnull", value.field]])
    if isinstance(value, SigmaExists):
        return ["nonnull", field] if value.exists else True
    if isinstance(value, SigmaBool):
        return ["nonnull", field]
    # null, regular expressions, CIDR, comparisons: a value is needed, nothing more is known.
    if isinstance(value, SigmaNull):
        return True
    return ["nonnull", field]


def _combine(op: str, nodes: list[Node]) -> Node:
    flat: list[Node] = []
    for n in nodes:
        flat.extend(n[1] if isinstance(n, list) and n[0] == op else [n])
    nodes = flat
    neutral, absorbing = (True, False) if op == "all" else (False, True)
    if any(n is absorbing for n in nodes):
        return absorbing
    kept: list[Node] = [n for n in nodes if n is not neutral]
    if not kept:
        return neutral
    return kept[0] if len(kept) == 1 else [op, kept]


def condition_tree(cond: Any) -> Node:
    """The literal tree of one parsed (and processed) pySigma condition."""
    if isinstance(cond, ConditionAND):
        return _combine("all", [condition_tree(a) for a in cond.args])
    if isinstance(cond, ConditionOR):
        return _combine("any", [condition_tree(a) for a in cond.args])
    if isinstance(cond, ConditionNOT):
        return True
    if isinstance(cond, ConditionFieldEqualsValueExpression):
        return _leaf(cond.field, cond.value)
    if isinstance(cond, ConditionValueExpression):
        if isinstance(cond.value, SigmaString):
            return _leaf(FULL_TEXT_COLUMN, cond.value)
        if isinstance(cond.value, SigmaNumber):
            return ["has", FULL_TEXT_COLUMN, str(cond.value.number)]
        return ["nonnull", FULL_TEXT_COLUMN]
    return True


def rule_tree(rule: SigmaRule) -> Node:
    """The tree of a rule already converted (its pipeline applied): any of its conditions."""
    return _combine("any", [condition_tree(c.parsed) for c in rule.detection.parsed_condition])


def columns_of(node: Node) -> set[str]:
    if not isinstance(node, list):
        return set()
    if node[0] in ("has", "nonnull"):
        return {node[1]}
    return set().union(*(columns_of(n) for n in node[1]))


def literals_of(node: Node, out: dict[str, set[str]] | None = None) -> dict[str, set[str]]:
    """Every `has` literal of a tree, by lower-cased column."""
    out = {} if out is None else out
    if isinstance(node, list):
        if node[0] == "has":
            out.setdefault(node[1].lower(), set()).add(node[2])
        elif node[0] in ("all", "any"):
            for child in node[1]:
                literals_of(child, out)
    return out


class LiteralFinder:
    """Finds which of a column's literals occur in a text: one Aho-Corasick pass for them all.

    Built once per rule set and column and reused for every batch.
    """

    def __init__(self, literals: set[str]) -> None:
        self.literals = frozenset(literals)
        self._automaton: Any = None
        if len(self.literals) > 3:
            self._automaton = ahocorasick.Automaton()
            for lit in self.literals:
                self._automaton.add_word(lit, lit)
            self._automaton.make_automaton()

    def __call__(self, text: str) -> set[str]:
        if self._automaton is None:
            return {lit for lit in self.literals if lit in text}
        found: set[str] = set()
        for _, lit in self._automaton.iter(text):
            found.add(lit)
            if len(found) == len(self.literals):
                break
        return found


@dataclass
class ColumnValues:
    """One column over a group's rows, as the row checker reads it.

    `count` distinct values; `distinct`: them lower-cased, None when they hold too much text
    to search (any literal may then be there); `index` (made by `make_index` when first
    needed): per row, the position of its value, `count` for a row without one.
    """

    count: int
    distinct: list[str] | None
    make_index: Callable[[], np.ndarray]
    #: Per literal of the column's finder, the distinct values that hold it (made when asked).
    holders: dict[str, list[int]] | None = None
    _index: np.ndarray | None = None

    @property
    def index(self) -> np.ndarray:
        if self._index is None:
            self._index = self.make_index()
        return self._index


def _bits(mask: np.ndarray) -> int:
    """A boolean array as the bits of an int (bit i: element i)."""
    return int.from_bytes(np.packbits(mask, bitorder="little").tobytes(), "little")


class RowChecker:
    """Decides, row by row, whether a rule's literals could all be in one event of a group.

    A `has` literal stands for the rows whose value holds it, as the bits of an int, so that
    `all` asks for one row to hold every literal, not each literal to be in some row: the
    rule `Image|endswith: '\\cmd.exe'` and `CommandLine|contains: 'whoami'` is not run
    because one event ran cmd.exe and another, PowerShell, ran whoami. `finders` hold, per
    column, the literals the rules ask about, so that each value is searched once.
    """

    def __init__(
        self, columns: Mapping[str, ColumnValues], finders: Mapping[str, LiteralFinder], rows: int
    ) -> None:
        self.columns = columns
        self.finders = finders
        self.all_rows = (1 << rows) - 1
        self._rows: dict[tuple[str, str | None], int] = {}

    def __call__(self, node: Node) -> bool:
        # Most rules fail on a literal that no event holds: that is known without the rows.
        return self.anywhere(node) and self.rows(node) != 0

    def anywhere(self, node: Node) -> bool:
        """Whether each literal `node` needs is in some event (not necessarily the same one)."""
        if not isinstance(node, list):
            return bool(node)
        op = node[0]
        if op in ("has", "nonnull"):
            values = self.columns.get(node[1].lower())
            if values is None:
                return False
            if op == "nonnull" or values.distinct is None:
                return True
            return node[2] in self._holders(node[1].lower(), values)
        if op == "all":
            return all(self.anywhere(n) for n in node[1])
        return any(self.anywhere(n) for n in node[1])

    def rows(self, node: Node) -> int:
        """The rows (bits) that could satisfy `node`."""
        if not isinstance(node, list):
            return self.all_rows if node else 0
        op = node[0]
        if op in ("has", "nonnull"):
            return self._leaf(node[1].lower(), node[2] if op == "has" else None)
        if op == "all":
            out = self.all_rows
            for child in node[1]:
                out &= self.rows(child)
                if not out:
                    break
            return out
        out = 0
        for child in node[1]:
            out |= self.rows(child)
        return out

    def _leaf(self, column: str, literal: str | None) -> int:
        """Rows whose `column` has a value (that holds `literal`)."""
        key = (column, literal)
        found = self._rows.get(key)
        if found is not None:
            return found
        values = self.columns.get(column)
        if values is None:
            found = 0
        elif literal is None or values.distinct is None:
            found = _bits(values.index != values.count)
        else:
            holders = self._holders(column, values).get(literal, [])
            if not holders:
                found = 0
            elif len(holders) == values.count:  # in every value: the rows with a value
                found = self._leaf(column, None)
            else:
                wanted = np.zeros(values.count + 1, dtype=bool)  # the last: no value
                wanted[holders] = True
                found = _bits(wanted[values.index])
        self._rows[key] = found
        return found

    def _holders(self, column: str, values: ColumnValues) -> dict[str, list[int]]:
        if values.holders is None:
            values.holders = {}
            finder = self.finders.get(column)
            if finder is not None and values.distinct is not None:
                for i, value in enumerate(values.distinct):
                    for literal in finder(EDGE + value + EDGE):
                        values.holders.setdefault(literal, []).append(i)
        return values.holders
