"""Quarantine: bad records kept with their reason, never dropped, never fatal to a batch."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from vigil.core.clock import utcnow
from vigil.core.errors import Location
from vigil.core.problems import InputProblem


@dataclass(frozen=True)
class QuarantineEntry:
    dataset: str
    source: str
    reason: str
    line: int | None = None
    record: str | None = None
    #: The bad input itself (text, truncated), so nothing is lost.
    raw: str = ""
    at: datetime = field(default_factory=utcnow)

    @property
    def location(self) -> Location:
        return Location(self.source, self.line, self.record)

    @classmethod
    def of(cls, dataset: str, problem: InputProblem) -> QuarantineEntry:
        """The bad part of an input kept in `dataset`'s quarantine, the problem as its reason."""
        where = problem.location
        return cls(dataset, where.source, problem.message, where.line, where.record, problem.raw)


class Quarantine:
    """One JSON-lines file per dataset under <data>/quarantine/."""

    MAX_RAW = 64 * 1024

    def __init__(self, root: Path) -> None:
        self.root = root

    def add(self, entry: QuarantineEntry) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        data: dict[str, Any] = asdict(entry)
        data["at"] = entry.at.isoformat()
        data["raw"] = entry.raw[: self.MAX_RAW]
        with (self.root / f"{entry.dataset}.jsonl").open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(data, ensure_ascii=False) + "\n")

    def entries(self, dataset: str | None = None) -> Iterator[QuarantineEntry]:
        if not self.root.is_dir():
            return
        files = [self.root / f"{dataset}.jsonl"] if dataset else sorted(self.root.glob("*.jsonl"))
        for path in files:
            if not path.exists():
                continue
            with path.open(encoding="utf-8") as fh:
                for line in fh:
                    data = json.loads(line)
                    data["at"] = datetime.fromisoformat(data["at"])
                    yield QuarantineEntry(**data)

    def count(self, dataset: str | None = None) -> int:
        return sum(1 for _ in self.entries(dataset))
