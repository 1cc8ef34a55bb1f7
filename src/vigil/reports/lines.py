"""Names every report prints alike: rooms, election phases and units, in the reader's language."""

from __future__ import annotations

from vigil.core.calendar import Phase
from vigil.core.i18n import _
from vigil.core.units import UnitTree

#: Capabilities as a reader knows them (English msgids, translated in reports/locales/vi.po).
CAPABILITY_NAMES: dict[str, str] = {
    "monitor": "Security monitoring",
    "inspect": "Inspections",
    "infowatch": "Information watch",
    "registry": "Population and voter data",
    "candidates": "Candidate checks",
    "cases": "Duty room operations",
}


#: Election phases as a report says them.
PHASE_NAMES: dict[Phase, str] = {
    Phase.BEFORE: "Before voting",
    Phase.DURING: "Voting period",
    Phase.AFTER: "After voting",
}


def phase_name(phase: Phase, lang: str) -> str:
    return _(PHASE_NAMES[phase], lang)


def capability_name(capability: str, lang: str) -> str:
    english = CAPABILITY_NAMES.get(capability)
    return _(english, lang) if english else capability


def unit_name(units: UnitTree, code: str, lang: str) -> str:
    return units.get(code).name(lang) if code in units else code
