"""Unit scope as the duty room needs it: the tree from the store, and 'does this actor see all'."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.core.access import Actor
from vigil.core.errors import NotFoundError, ValidationError
from vigil.core.units import Unit, UnitKind, UnitTree
from vigil.store.models import UnitRow


def unit_tree(session: Session) -> UnitTree:
    """The province's units as stored (sync_units keeps them equal to vigil.toml)."""
    rows = session.execute(
        select(UnitRow.code, UnitRow.kind, UnitRow.name_vi, UnitRow.name_en, UnitRow.parent)
    ).all()
    return UnitTree(
        Unit(code, UnitKind(kind), vi, en, parent) for code, kind, vi, en, parent in rows
    )


def root_unit(session: Session) -> str:
    code = session.scalar(select(UnitRow.code).where(UnitRow.parent.is_(None)))
    if code is None:
        raise NotFoundError("the units table is empty; run 'vigil init'")
    return code


def visible_units(session: Session, actor: Actor, unit: str | None = None) -> list[str] | None:
    """Units to filter on: None when the actor sees every unit and asked for no unit.

    `unit` narrows to that unit and the units under it; outside the actor's scope it is refused.
    """
    if unit is not None:
        tree = unit_tree(session)
        if unit not in tree:
            raise ValidationError(f"unknown unit {unit!r}")
        actor.require_unit(unit)
        return sorted(tree.subtree(unit) & actor.scope)
    every = set(session.scalars(select(UnitRow.code)))
    if every <= actor.scope:
        return None
    return sorted(every & actor.scope)


def lowest_common_unit(tree: UnitTree, units: Iterable[str]) -> str:
    """The deepest unit that has every one of `units` in its subtree."""
    codes = list(dict.fromkeys(units))
    if not codes:
        raise ValidationError("no units given")
    chains = []
    for code in codes:
        chain = [code, *(a.code for a in tree.ancestors(code))]
        chains.append(chain)
    common = set(chains[0]).intersection(*chains[1:])
    # The first common unit walking up from any one unit is the deepest one.
    return next(c for c in chains[0] if c in common)
