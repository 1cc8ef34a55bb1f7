"""Keeps the units table equal to the unit tree of vigil.toml."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.core.units import UnitTree
from vigil.store.models import UnitRow


def sync_units(session: Session, tree: UnitTree) -> int:
    """Insert or update every unit, parents first; never delete (history points at units)."""
    existing = {u.code: u for u in session.scalars(select(UnitRow))}
    changed = 0
    ordered = sorted(tree, key=lambda u: len(tree.ancestors(u.code)))
    for unit in ordered:
        row = existing.get(unit.code)
        values = {
            "kind": str(unit.kind),
            "name_vi": unit.name_vi,
            "name_en": unit.name_en,
            "parent": unit.parent,
        }
        if row is None:
            session.add(UnitRow(code=unit.code, **values))
            changed += 1
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            changed += 1
        session.flush()
    return changed
