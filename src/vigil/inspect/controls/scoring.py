"""From answers to a scorecard: a score per group and overall, and the security level attained.

Business rule: a control that passes counts 1, partly 0.5, a failure or no answer 0; a control
that does not apply is left out. A group's score (0-100) is the mean over its applicable controls
in the profile; the overall score is the mean over all of them (every control weighs the same).
The level attained is the highest level L (up to the profile's) at which every applicable
control required at L or below passes fully; 0 when a level-1 control does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from vigil.inspect.controls.catalog import Catalog, Control, Profile

PASS, PARTIAL, FAIL, NA, UNANSWERED = "pass", "partial", "fail", "na", "unanswered"
STATUSES = (PASS, PARTIAL, FAIL, NA, UNANSWERED)
_POINTS = {PASS: 1.0, PARTIAL: 0.5, FAIL: 0.0, UNANSWERED: 0.0}


@dataclass
class GroupScore:
    group: str
    title: str
    title_vi: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    points: float = 0.0

    @property
    def applicable(self) -> int:
        return sum(n for status, n in self.counts.items() if status != NA)

    @property
    def score(self) -> float | None:
        return round(100 * self.points / self.applicable, 1) if self.applicable else None


@dataclass
class Scorecard:
    profile: str
    target_level: int
    groups: list[GroupScore]
    overall: float
    level: int
    #: Controls that did not fully pass (failed, partial or unanswered), in catalog order.
    shortfalls: list[tuple[Control, str]]

    def group(self, group_id: str) -> GroupScore | None:
        return next((g for g in self.groups if g.group == group_id), None)


def score(catalog: Catalog, profile: Profile, answers: Mapping[str, str]) -> Scorecard:
    """The scorecard of one inspection's answers (control id -> status) against a profile."""
    groups: dict[str, GroupScore] = {}
    shortfalls: list[tuple[Control, str]] = []
    points = applicable = 0.0
    lowest_short = profile.level + 1
    for control in catalog.controls_of(profile):
        status = answers.get(control.id, UNANSWERED)
        meta = next(g for g in catalog.groups if g.id == control.group)
        gs = groups.setdefault(control.group, GroupScore(meta.id, meta.title, meta.title_vi))
        gs.counts[status] += 1
        if status == NA:
            continue
        gs.points += _POINTS[status]
        points += _POINTS[status]
        applicable += 1
        if status != PASS:
            shortfalls.append((control, status))
            lowest_short = min(lowest_short, control.level)
    order = [g.id for g in catalog.groups]
    ordered = sorted(groups.values(), key=lambda g: order.index(g.group))
    overall = round(100 * points / applicable, 1) if applicable else 0.0
    level = min(profile.level, lowest_short - 1)
    return Scorecard(profile.id, profile.level, ordered, overall, level, shortfalls)


@dataclass(frozen=True)
class Trend:
    """How a unit moved since its previous inspection against the same profile."""

    previous_overall: float
    previous_level: int
    overall_change: float
    level_change: int
    group_changes: dict[str, float]


def trend(current: Scorecard, previous: Scorecard | None) -> Trend | None:
    if previous is None:
        return None
    changes = {}
    for g in current.groups:
        before = previous.group(g.group)
        if g.score is not None and before is not None and before.score is not None:
            changes[g.group] = round(g.score - before.score, 1)
    return Trend(
        previous.overall,
        previous.level,
        round(current.overall - previous.overall, 1),
        current.level - previous.level,
        changes,
    )
