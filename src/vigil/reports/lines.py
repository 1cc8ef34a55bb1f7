"""Names every report prints alike: rooms, election phases and units, in the reader's language."""

from __future__ import annotations

from vigil.core.calendar import Phase
from vigil.core.i18n import _
from vigil.core.units import UnitTree
from vigil.plugins import capability_labels

#: Election phases as a report says them.
PHASE_NAMES: dict[Phase, str] = {
    Phase.BEFORE: "Before voting",
    Phase.DURING: "Voting period",
    Phase.AFTER: "After voting",
}


def phase_name(phase: Phase, lang: str) -> str:
    return _(PHASE_NAMES[phase], lang)


def capability_names(lang: str) -> dict[str, str]:
    """Every room's name for people (its `vigil_label`), in the reader's language."""
    return {name: _(label, lang) for name, label in capability_labels().items()}


def capability_name(capability: str, lang: str) -> str:
    """A finding's capability as people know it; its plugin name if the room gives none."""
    return capability_names(lang).get(capability, capability)


def unit_name(units: UnitTree, code: str, lang: str) -> str:
    return units.get(code).name(lang) if code in units else code
