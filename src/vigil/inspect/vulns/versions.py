"""Versions ordered by each ecosystem's own rules (univers), and whether one falls in an OSV range.

PyPI follows PEP 440, Go modules and crates semantic versioning (Go's leading `v` dropped), npm
semver, Debian its own epoch/upstream/revision order. A version an ecosystem cannot read is
compared with nothing: only an exact listing in an advisory can make it vulnerable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from univers.versions import (
    DebianVersion,
    GolangVersion,
    InvalidVersion,
    PypiVersion,
    SemverVersion,
    Version,
)

#: OSV ecosystem name -> univers version class.
VERSION_CLASSES: dict[str, type[Version]] = {
    "PyPI": PypiVersion,
    "Go": GolangVersion,
    "crates.io": SemverVersion,
    "npm": SemverVersion,
    "Debian": DebianVersion,
}
#: purl type -> OSV ecosystem.
PURL_ECOSYSTEMS = {
    "pypi": "PyPI",
    "golang": "Go",
    "cargo": "crates.io",
    "npm": "npm",
    "deb": "Debian",
}
_PYPI_NAME = re.compile(r"[-_.]+")


def ecosystem_of(name: str) -> str:
    """The ecosystem without its release ('Debian:12' -> 'Debian')."""
    return name.split(":", 1)[0]


def package_key(ecosystem: str, name: str) -> str:
    """The name under which an ecosystem looks a package up (PyPI folds case and separators)."""
    if ecosystem == "PyPI":
        return _PYPI_NAME.sub("-", name).lower()
    return name


@lru_cache(maxsize=262_144)
def parse_version(ecosystem: str, text: str) -> Version | None:
    cls = VERSION_CLASSES.get(ecosystem_of(ecosystem))
    if cls is None or not text:
        return None
    if cls is GolangVersion:
        text = text.removeprefix("v").removesuffix("+incompatible")
    try:
        return cls(text)
    except (InvalidVersion, ValueError, TypeError):
        return None


def _event_order(ecosystem: str, event: Mapping[str, str]) -> tuple[int, Version | None]:
    kind, value = next(iter(event.items()))
    if kind == "introduced" and value == "0":
        return 0, None
    return 1, parse_version(ecosystem, value)


def in_range(ecosystem: str, version: Version, events: Iterable[Mapping[str, str]]) -> bool:
    """Whether `version` is affected by one OSV range of type ECOSYSTEM or SEMVER.

    Events are taken in version order; each one at or below the version switches the state:
    `introduced` on, `fixed` off, `last_affected` off for anything above it.
    """
    keyed = []
    for event in events:
        rank, bound = _event_order(ecosystem, event)
        if rank and bound is None:
            return False  # a bound this ecosystem cannot read: nothing can be said from it
        keyed.append((rank, bound, event))
    keyed.sort(key=_sort_key)
    affected = False
    for rank, bound, event in keyed:
        kind = next(iter(event))
        if kind == "introduced":
            if rank == 0 or (bound is not None and version >= bound):
                affected = True
        elif bound is not None and _closes(kind, version, bound):
            affected = False
    return affected


def _closes(kind: str, version: Version, bound: Version) -> bool:
    """Whether a `fixed` or `last_affected` event at `bound` ends an affected span for `version`."""
    if kind == "fixed":
        return bool(version >= bound)
    return kind == "last_affected" and bool(version > bound)


def _sort_key(item: tuple[int, Version | None, Any]) -> Any:
    return _Ordered(item[0], item[1])


class _Ordered:
    """Sort key of an event: the open introduction first, then by version."""

    __slots__ = ("bound", "rank")

    def __init__(self, rank: int, bound: Version | None) -> None:
        self.rank, self.bound = rank, bound

    def __lt__(self, other: _Ordered) -> bool:
        if self.rank != other.rank:
            return self.rank < other.rank
        if self.bound is None or other.bound is None:
            return False
        return bool(self.bound.value < other.bound.value)


def affected(
    ecosystem: str,
    version_text: str,
    ranges: Iterable[Mapping[str, Any]],
    versions: Iterable[str],
) -> bool:
    """Whether one affected entry of an advisory covers this version."""
    if version_text in set(versions):
        return True
    version = parse_version(ecosystem, version_text)
    if version is None:
        return False
    for rng in ranges:
        if rng.get("type") in ("ECOSYSTEM", "SEMVER") and in_range(
            ecosystem, version, rng.get("events") or []
        ):
            return True
    return False


#: One range ready to test: its events in version order, each (kind, bound; None = "0"). The
#: bound is the version's `value`, what univers orders a version by (its attrs comparison
#: compares exactly that field): comparing values directly skips attrs' tuple building, which
#: was most of the time of matching an SBOM.
Compiled = tuple[tuple[str, Any], ...]


def compile_ranges(ecosystem: str, ranges: Iterable[Mapping[str, Any]]) -> list[Compiled]:
    """Parse and order an affected entry's ECOSYSTEM/SEMVER ranges once, to test many versions;
    a range with a bound the ecosystem cannot read is left out (nothing can be said from it)."""
    out = []
    for rng in ranges:
        if rng.get("type") not in ("ECOSYSTEM", "SEMVER"):
            continue
        keyed = []
        for event in rng.get("events") or []:
            rank, bound = _event_order(ecosystem, event)
            if rank and bound is None:
                break
            keyed.append((rank, bound, event))
        else:
            keyed.sort(key=_sort_key)
            out.append(tuple((next(iter(e)), None if b is None else b.value) for _r, b, e in keyed))
    return out


def in_compiled(version: Version, compiled: Compiled) -> bool:
    """`in_range` over a compiled range."""
    state = False
    value = version.value
    for kind, bound in compiled:
        if kind == "introduced":
            if bound is None or value >= bound:
                state = True
        elif bound is not None and (
            value >= bound if kind == "fixed" else kind == "last_affected" and value > bound
        ):
            state = False
    return state
