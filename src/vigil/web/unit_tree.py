"""The unit tree flattened for display: depth-first, each unit with its depth."""

from __future__ import annotations

from vigil.core.units import Unit, UnitTree


def walk(tree: UnitTree) -> list[tuple[Unit, int]]:
    out: list[tuple[Unit, int]] = []
    stack: list[tuple[Unit, int]] = [(tree.root, 0)]
    while stack:
        unit, depth = stack.pop()
        out.append((unit, depth))
        stack.extend((child, depth + 1) for child in reversed(tree.children(unit.code)))
    return out
