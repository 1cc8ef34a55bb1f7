"""The election calendar: before, during and after voting, and what each phase makes urgent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import pairwise

from vigil.core.errors import ConfigError
from vigil.core.severity import Severity


class Phase(StrEnum):
    BEFORE = "before"
    DURING = "during"
    AFTER = "after"


@dataclass(frozen=True)
class PhasePolicy:
    """What a phase asks of the duty room."""

    phase: Phase
    starts: datetime
    ends: datetime
    #: Findings at or above this severity are alerts in this phase.
    alert_threshold: Severity
    #: Hours a new case has before it is due, by the case's severity (missing: `default`).
    response_hours: dict[Severity, float]
    #: A sensor silent longer than this many minutes is itself a finding.
    silence_minutes: int = 60

    def response_time(self, severity: Severity) -> timedelta:
        hours = self.response_hours.get(severity)
        if hours is None:
            hours = (
                min(self.response_hours.values())
                if severity >= Severity.HIGH
                else max(self.response_hours.values())
            )
        return timedelta(hours=hours)


class ElectionCalendar:
    def __init__(self, name: str, voting_day: datetime, policies: list[PhasePolicy]) -> None:
        if {p.phase for p in policies} != set(Phase):
            raise ConfigError("the calendar must define the phases before, during and after")
        ordered = sorted(policies, key=lambda p: p.starts)
        if [p.phase for p in ordered] != [Phase.BEFORE, Phase.DURING, Phase.AFTER]:
            raise ConfigError("phases must follow each other: before, during, after")
        for a, b in pairwise(ordered):
            if a.ends != b.starts:
                raise ConfigError(f"phase {a.phase} must end when {b.phase} starts")
        self.name = name
        self.voting_day = voting_day
        self.policies = {p.phase: p for p in ordered}

    def phase_at(self, when: datetime) -> Phase:
        """The phase in force at `when`; before the calendar is 'before', after it 'after'."""
        if when < self.policies[Phase.DURING].starts:
            return Phase.BEFORE
        if when < self.policies[Phase.AFTER].starts:
            return Phase.DURING
        return Phase.AFTER

    def policy_at(self, when: datetime) -> PhasePolicy:
        return self.policies[self.phase_at(when)]
