"""Which of many regexes may match a text, found in one quick pass.

Most posts match none of the scam patterns, yet one regex made of all of them tries every
alternative at every letter of every post. Each pattern's possible starts (the plain texts a
match must begin with, e.g. "cung cap", "chuyen tien", "phi") are derived from the regex itself,
so the data stays the only place rules are written; one Aho-Corasick pass (pyahocorasick) finds
which starts occur, and only the patterns owning them are tried. A pattern whose start cannot be
derived is always tried. Without pyahocorasick, a regex of the starts serves as the gate (every
pattern tried when it matches). Either way a pattern is skipped only when it cannot match.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from typing import Any

#: Derived starts beyond this many per pattern are not worth a gate.
MOST_STARTS = 400


def starts(items: Sequence[tuple[Any, Any]]) -> tuple[set[str], bool]:
    """The texts a match of the parsed regex `items` starts with, and whether they are whole
    matches (False: only their beginnings). Stops at the first part that is not plain text,
    a group, an alternative or an optional part."""
    c = importlib.import_module("re._constants")
    out: set[str] = {""}
    for op, arg in items:
        if op is c.LITERAL:
            sub, whole = {chr(arg)}, True
        elif op is c.SUBPATTERN:
            sub, whole = starts(arg[-1])
        elif op is c.BRANCH:
            parts = [starts(branch) for branch in arg[1]]
            sub = set().union(*(p for p, _ in parts))
            whole = all(w for _, w in parts)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT) and arg[0] == 0 and arg[1] == 1:
            body, whole = starts(arg[2])
            sub = body | {""}
        else:
            return out, False
        out = {a + b for a in out for b in sub}
        if not whole or len(out) > MOST_STARTS:
            return out, False
    return out, True


def regex_starts(regex: str) -> set[str] | None:
    """The texts every match of `regex` starts with, or None when they cannot be told."""
    parser = importlib.import_module("re._parser")
    try:
        found, _ = starts(list(parser.parse(regex)))
    except Exception:  # a parser of another Python: no gate for this regex
        return None
    if "" in found or len(found) > MOST_STARTS:
        return None
    return found


class PatternGate:
    """The patterns (by index) that may match a text: a superset of those that do."""

    def __init__(self, regexes: Sequence[str], *, automaton: bool = True) -> None:
        self.count = len(regexes)
        self.always: list[int] = []
        owners: dict[str, set[int]] = {}
        for k, regex in enumerate(regexes):
            found = regex_starts(regex)
            if found is None:
                self.always.append(k)
                continue
            for start in found:
                owners.setdefault(start, set()).add(k)
        self._automaton: Any = None
        self._regex: re.Pattern[str] | None = None
        if owners:
            try:
                if not automaton:
                    raise ImportError("the regex gate asked for")
                ahocorasick = importlib.import_module("ahocorasick")
            except ImportError:
                words = sorted(owners, key=lambda w: (-len(w), w))
                self._regex = re.compile("|".join(re.escape(w) for w in words))
            else:
                self._automaton = ahocorasick.Automaton()
                for start, ks in owners.items():
                    self._automaton.add_word(start, frozenset(ks))
                self._automaton.make_automaton()

    def candidates(self, text: str) -> list[int]:
        """Indices, in order, of the patterns that may match `text`."""
        if self._automaton is not None:
            found = set(self.always)
            for _, owners in self._automaton.iter(text):
                found |= owners
            return sorted(found)
        if self._regex is None or self._regex.search(text):
            return list(range(self.count))
        return self.always
