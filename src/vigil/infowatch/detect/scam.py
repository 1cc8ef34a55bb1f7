"""`scam`: OTP and password requests, transfers, fake prizes, loans, jobs, "update your voter data
here", fake summons, links to lookalike or listed domains (`data/scam.yaml`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from vigil.infowatch.detect.gate import PatternGate

RULES = Path(__file__).parents[1] / "data" / "scam.yaml"


@dataclass(frozen=True)
class Pattern:
    id: str
    weight: float
    regex: re.Pattern[str]
    reason_en: str
    reason_vi: str


@dataclass
class ScamScore:
    score: float
    patterns: list[str] = field(default_factory=list)
    reasons_en: list[str] = field(default_factory=list)
    reasons_vi: list[str] = field(default_factory=list)
    countered: bool = False


@dataclass(frozen=True)
class ScamRules:
    threshold: float
    counter_factor: float
    link_weight: float
    indicator_weight: float
    patterns: tuple[Pattern, ...]
    counter: tuple[re.Pattern[str], ...]
    #: The patterns that may match a text, found in a quicker pass (see `gate`).
    gate: PatternGate


@cache
def scam_rules() -> ScamRules:
    raw: dict[str, Any] = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    patterns = tuple(
        Pattern(p["id"], float(p["weight"]), re.compile(p["regex"]), p["reason_en"], p["reason_vi"])
        for p in raw["patterns"]
    )
    return ScamRules(
        float(raw["threshold"]),
        float(raw["counter_factor"]),
        float(raw["link_weight"]),
        float(raw["indicator_weight"]),
        patterns,
        tuple(re.compile(c) for c in raw["counter"]),
        PatternGate([p["regex"] for p in raw["patterns"]]),
    )


def score_scam(
    folded: str,
    link_hits: list[str] = (),  # type: ignore[assignment]
    indicator_hits: list[str] = (),  # type: ignore[assignment]
) -> ScamScore:
    """How much a folded text reads as a scam, and why; links to lookalikes and listed
    indicators add their weight (their reasons are given by the caller)."""
    rules = scam_rules()
    result = ScamScore(0.0)
    keep = 1.0
    for k in rules.gate.candidates(folded):  # in order; the others cannot match
        pattern = rules.patterns[k]
        if pattern.regex.search(folded):
            keep *= 1.0 - pattern.weight
            result.patterns.append(pattern.id)
            result.reasons_en.append(pattern.reason_en)
            result.reasons_vi.append(pattern.reason_vi)
    for hit in link_hits:
        keep *= 1.0 - rules.link_weight
        result.patterns.append(f"lookalike-link:{hit}")
    for hit in indicator_hits:
        keep *= 1.0 - rules.indicator_weight
        result.patterns.append(f"indicator:{hit}")
    score = 1.0 - keep
    if score and any(c.search(folded) for c in rules.counter) and not indicator_hits:
        score *= rules.counter_factor
        result.countered = True
    result.score = round(score, 3)
    return result


def is_scam(score: ScamScore) -> bool:
    return score.score >= scam_rules().threshold


IndicatorCheck = Callable[[str], bool]
