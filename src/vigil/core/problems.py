"""One shape for a problem found in an input: a rule file, a feed, a registry extract, a checklist.

Every room that reads files reports what it could not take in the same way, so that the CLI, the
pages and the quarantine show them alike: where (file, line, record), how bad, what is wrong.
A validator returns a list of them (pySigma's shape); a batch job keeps going and quarantines
the bad part with the problem's text as its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypedDict, Unpack

from vigil.core.errors import Location


class ProblemSeverity(StrEnum):
    """How bad a problem is: an error leaves the part out; a warning keeps it, said aloud."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Where(TypedDict, total=False):
    """Where in an input a problem is, beyond its source, and what was read there."""

    line: int | None
    record: str | None
    code: str
    raw: str


@dataclass(frozen=True)
class InputProblem:
    """Something wrong in an input, and where it is."""

    location: Location
    severity: ProblemSeverity
    message: str
    #: A short stable code for scripts and counts ("yaml", "not-utf8", "unknown-field"...).
    code: str = ""
    #: The bad input itself (a line, a record), kept so that nothing is lost.
    raw: str = ""

    @classmethod
    def at(
        cls,
        severity: ProblemSeverity,
        source: str,
        message: str,
        *,
        line: int | None = None,
        record: str | None = None,
        code: str = "",
        raw: str = "",
    ) -> InputProblem:
        """A problem at a file's line or a dataset's record."""
        return cls(Location(source, line, record), severity, message, code, raw)

    @classmethod
    def error(cls, source: str, message: str, **where: Unpack[Where]) -> InputProblem:
        """An error: the part is left out."""
        return cls.at(ProblemSeverity.ERROR, source, message, **where)

    @classmethod
    def warning(cls, source: str, message: str, **where: Unpack[Where]) -> InputProblem:
        """A warning: the part is kept, and the problem said."""
        return cls.at(ProblemSeverity.WARNING, source, message, **where)

    @property
    def is_error(self) -> bool:
        return self.severity is ProblemSeverity.ERROR

    def __str__(self) -> str:
        code = f" [{self.code}]" if self.code else ""
        return f"{self.location}: {self.severity.value}{code}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape (CLI --json, API): one for every room."""
        return {
            "source": self.location.source,
            "line": self.location.line,
            "record": self.location.record,
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
        }
