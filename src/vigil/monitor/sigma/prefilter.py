"""A necessary condition of each rule, in literals: what must occur in the events for it to match.

Planning a SQL query costs about a millisecond; 2,400 rules cost seconds even when no event
could match. So each rule also gets a small tree of literals (`has`: this text occurs in this
column, `nonnull`: this column has a value), joined by `all`/`any`. Before running a rule over
a batch, the runner checks the tree against the distinct values of the batch; a rule whose
literals do not occur cannot match and is not run. The tree over-approximates the rule
(negations and regular expressions count as "possible"), so it never hides a match.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

import ahocorasick  # type: ignore[import-not-found]
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

from vigil.monitor.sigma.backend import FULL_TEXT_COLUMN

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


class LiteralChecker:
    """Decides `could_match` for many rules over the same values.

    `values` maps a lower-cased column name to its lower-cased distinct values, each between
    `EDGE`s (joined by it, and it first and last);
    a column with no value is absent, and None stands for "too much text to index: anything".
    `finders` hold, per column, the literals the rules will ask about, so that each column is
    searched once.
    """

    def __init__(
        self, values: Mapping[str, str | None], finders: Mapping[str, LiteralFinder]
    ) -> None:
        self.present = frozenset(values)
        self.found: dict[str, set[str] | None] = {}
        for column, finder in finders.items():
            if column in values:
                text = values[column]
                self.found[column] = None if text is None else finder(text)

    def __call__(self, node: Node) -> bool:
        if not isinstance(node, list):
            return bool(node)
        op = node[0]
        if op == "has":
            column = node[1].lower()
            if column not in self.present:
                return False
            found = self.found.get(column)
            return found is None or node[2] in found
        if op == "nonnull":
            return node[1].lower() in self.present
        if op == "all":
            return all(self(n) for n in node[1])
        return any(self(n) for n in node[1])


def could_match(node: Node, values: Mapping[str, str | None]) -> bool:
    """Whether a rule with this tree could match events whose columns hold `values`."""
    finders = {c: LiteralFinder(found) for c, found in literals_of(node).items()}
    return LiteralChecker(values, finders)(node)
