"""The province's organisation: province, departments/branches/localities, communes, villages."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from vigil.core.errors import ConfigError, NotFoundError


class UnitKind(StrEnum):
    PROVINCE = "province"
    DEPARTMENT = "department"  # departments, branches and localities of the province
    COMMUNE = "commune"
    COMMUNE_POLICE = "commune_police"
    VILLAGE = "village"


@dataclass(frozen=True)
class Unit:
    code: str
    kind: UnitKind
    name_vi: str
    name_en: str
    parent: str | None = None

    def name(self, lang: str) -> str:
        return self.name_vi if lang == "vi" else self.name_en


class UnitTree:
    """Units indexed by code, with the scoping questions every route asks."""

    def __init__(self, units: Iterable[Unit]) -> None:
        self._units: dict[str, Unit] = {}
        for unit in units:
            if unit.code in self._units:
                raise ConfigError(f"unit code {unit.code!r} is defined twice")
            self._units[unit.code] = unit
        self._children: dict[str | None, list[str]] = {}
        for unit in self._units.values():
            if unit.parent is not None and unit.parent not in self._units:
                raise ConfigError(f"unit {unit.code!r} names unknown parent {unit.parent!r}")
            self._children.setdefault(unit.parent, []).append(unit.code)
        roots = self._children.get(None, [])
        if self._units and len(roots) != 1:
            raise ConfigError(f"exactly one root unit expected, found {sorted(roots)}")
        self._check_acyclic()

    def _check_acyclic(self) -> None:
        for code in self._units:
            seen: set[str] = set()
            current: str | None = code
            while current is not None:
                if current in seen:
                    raise ConfigError(f"unit {code!r} is its own ancestor")
                seen.add(current)
                current = self._units[current].parent

    def __iter__(self) -> Iterator[Unit]:
        return iter(self._units.values())

    def __len__(self) -> int:
        return len(self._units)

    def __contains__(self, code: object) -> bool:
        return code in self._units

    def get(self, code: str) -> Unit:
        try:
            return self._units[code]
        except KeyError as e:
            raise NotFoundError(f"unknown unit {code!r}") from e

    @property
    def root(self) -> Unit:
        return self._units[self._children[None][0]]

    def children(self, code: str) -> list[Unit]:
        return [self._units[c] for c in self._children.get(code, [])]

    def subtree(self, code: str) -> set[str]:
        """The unit and every unit under it: what an officer of that unit may see."""
        self.get(code)
        out: set[str] = set()
        stack = [code]
        while stack:
            current = stack.pop()
            out.add(current)
            stack.extend(self._children.get(current, []))
        return out

    def ancestors(self, code: str) -> list[Unit]:
        chain: list[Unit] = []
        parent = self.get(code).parent
        while parent is not None:
            unit = self._units[parent]
            chain.append(unit)
            parent = unit.parent
        return chain

    def in_scope(self, scope_unit: str, unit: str) -> bool:
        """True when `unit` is `scope_unit` or lies under it."""
        if unit == scope_unit:
            return True
        return any(a.code == scope_unit for a in self.ancestors(unit)) if unit in self else False

    def of_kind(self, *kinds: UnitKind) -> list[Unit]:
        return [u for u in self._units.values() if u.kind in kinds]
