"""Finding: the one record every capability emits and everything downstream reads."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from vigil.core.clock import to_utc, utcnow
from vigil.core.errors import ValidationError
from vigil.core.severity import Severity


class FindingStatus(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"  # linked to a case
    FALSE_POSITIVE = "false_positive"
    MERGED = "merged"  # folded into another finding
    RESOLVED = "resolved"


#: Statuses that still ask a duty officer for something.
OPEN_STATUSES = (FindingStatus.NEW, FindingStatus.ACKNOWLEDGED)


def fingerprint_of(capability: str, rule: str, unit: str, subject: str, scope: str = "") -> str:
    """Stable identity of 'this rule on this subject': repeats update one row."""
    raw = "\x1f".join((capability, rule, unit, subject, scope))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


def occurrence_key(*parts: object) -> str:
    """A short stable key for one underlying observation (an event, a record version)."""
    raw = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.blake2b(raw.encode("utf-8"), digest_size=12).hexdigest()


@dataclass(frozen=True)
class Finding:
    """One observation by a detector.

    `occurrences` are keys of the underlying observations (event ids, record versions). The store
    counts distinct keys, so running a detector again over data it has already seen changes
    nothing, while a new occurrence raises the count and last_seen of the same row.
    `occurred_at`, when given, says when each occurrence happened (one time per key), so that one
    Finding can stand for many events; without it every occurrence happened at `observed_at`.
    """

    capability: str
    rule: str
    severity: Severity
    unit: str
    subject: str
    title: str
    title_vi: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    observed_at: datetime = field(default_factory=utcnow)
    occurrences: tuple[str, ...] = ()
    #: Extra identity, e.g. a time window, when one rule on one subject must split into rows.
    scope: str = ""
    occurred_at: tuple[datetime, ...] = ()

    def __post_init__(self) -> None:
        for name in ("capability", "rule", "unit", "subject", "title"):
            if not getattr(self, name):
                raise ValidationError(f"finding field {name!r} must not be empty")
        object.__setattr__(self, "severity", Severity.parse(self.severity))
        object.__setattr__(self, "observed_at", to_utc(self.observed_at))
        if not self.occurrences:
            object.__setattr__(self, "occurrences", (self.fingerprint,))
        if self.occurred_at:
            if len(self.occurred_at) != len(self.occurrences):
                raise ValidationError(
                    f"finding has {len(self.occurrences)} occurrences but "
                    f"{len(self.occurred_at)} occurrence times"
                )
            if any(t.tzinfo is not None for t in self.occurred_at):
                object.__setattr__(self, "occurred_at", tuple(map(to_utc, self.occurred_at)))

    def occurrence_times(self) -> Iterator[tuple[str, datetime]]:
        """Each occurrence key with the time it happened."""
        if self.occurred_at:
            return zip(self.occurrences, self.occurred_at, strict=True)
        return ((key, self.observed_at) for key in self.occurrences)

    @property
    def fingerprint(self) -> str:
        return fingerprint_of(self.capability, self.rule, self.unit, self.subject, self.scope)
