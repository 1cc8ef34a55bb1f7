"""What the demo found: findings by capability and severity, current alerts, ground truth caught.

A planted problem counts as found when a finding of the same capability and rule names its
subject, either as the whole subject or as one item of a list such as "NK001|NK002" (a pair of
duplicates may be reported under both records). A finding of a capability that planted
problems, which names none of them, is counted as unplanted: on the demo's clean records it is a
false positive.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.core.access import Actor, Permission
from vigil.core.calendar import Phase, PhasePolicy
from vigil.core.severity import Severity
from vigil.plugins import GroundTruth
from vigil.store.models import FindingRow

_SUBJECT_SEPARATORS = re.compile(r"[\s,;|+/:]+")


@dataclass
class TruthScore:
    """Planted problems of one capability, and which of them a finding caught."""

    capability: str
    planted: int = 0
    found: int = 0
    missed: list[GroundTruth] = field(default_factory=list)
    by_rule: Counter[str] = field(default_factory=Counter)
    found_by_rule: Counter[str] = field(default_factory=Counter)
    #: Findings naming no planted problem of their rule, by rule.
    unplanted_by_rule: Counter[str] = field(default_factory=Counter)

    @property
    def unplanted(self) -> int:
        return sum(self.unplanted_by_rule.values())

    @property
    def recall(self) -> float:
        return self.found / self.planted if self.planted else 1.0


@dataclass(frozen=True)
class AlertLine:
    severity: Severity
    capability: str
    rule: str
    unit: str
    subject: str
    title: str
    title_vi: str


@dataclass
class DemoSummary:
    phase: Phase
    threshold: Severity
    #: capability -> severity -> number of findings
    findings: dict[str, Counter[Severity]]
    alerts: int
    top_alerts: list[AlertLine]
    truth: list[TruthScore]

    @property
    def total_findings(self) -> int:
        return sum(sum(c.values()) for c in self.findings.values())


def subject_keys(subject: str) -> set[str]:
    """The subject itself and each item when it lists several."""
    return {subject, *(part for part in _SUBJECT_SEPARATORS.split(subject) if part)}


def score_truth(truth: list[GroundTruth], findings: list[tuple[str, str, str]]) -> list[TruthScore]:
    """Match planted problems to (capability, rule, subject) of findings, per capability."""
    seen = {(cap, rule, key) for cap, rule, subject in findings for key in subject_keys(subject)}
    scores: dict[str, TruthScore] = {}
    for planted in truth:
        score = scores.setdefault(planted.capability, TruthScore(planted.capability))
        score.planted += 1
        score.by_rule[planted.rule] += 1
        if (planted.capability, planted.rule, planted.subject) in seen:
            score.found += 1
            score.found_by_rule[planted.rule] += 1
        else:
            score.missed.append(planted)
    subjects = {(t.capability, t.rule, t.subject) for t in truth}
    for cap, rule, subject in findings:
        if cap in scores and not any((cap, rule, k) in subjects for k in subject_keys(subject)):
            scores[cap].unplanted_by_rule[rule] += 1
    return [scores[c] for c in sorted(scores)]


def summarise(
    session: Session, actor: Actor, policy: PhasePolicy, truth: list[GroundTruth], top: int = 10
) -> DemoSummary:
    """The summary over the findings `actor` may see; alerts as the phase `policy` defines them."""
    actor.require(Permission.VIEW)
    rows = session.execute(
        select(
            FindingRow.capability,
            FindingRow.rule,
            FindingRow.severity,
            FindingRow.unit,
            FindingRow.subject,
            FindingRow.title,
            FindingRow.title_vi,
            FindingRow.is_open,
            FindingRow.last_seen,
        )
    ).all()
    visible = [r for r in rows if actor.sees(r.unit)]
    by_capability: dict[str, Counter[Severity]] = {}
    for r in visible:
        by_capability.setdefault(r.capability, Counter())[Severity(r.severity)] += 1
    alerts = sorted(
        (r for r in visible if r.is_open and r.severity >= policy.alert_threshold),
        key=lambda r: (-r.severity, -r.last_seen.timestamp(), r.capability, r.subject),
    )
    return DemoSummary(
        phase=policy.phase,
        threshold=policy.alert_threshold,
        findings={c: by_capability[c] for c in sorted(by_capability)},
        alerts=len(alerts),
        top_alerts=[
            AlertLine(
                Severity(r.severity), r.capability, r.rule, r.unit, r.subject, r.title, r.title_vi
            )
            for r in alerts[:top]
        ],
        truth=score_truth(truth, [(r.capability, r.rule, r.subject) for r in visible]),
    )
