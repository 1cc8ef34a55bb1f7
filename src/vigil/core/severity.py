"""Severity of a finding, ordered so that comparisons read naturally."""

from __future__ import annotations

from enum import IntEnum

from vigil.core.errors import ValidationError


class Severity(IntEnum):
    INFO = 1
    LOW = 2
    MEDIUM = 3
    HIGH = 4
    CRITICAL = 5

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str | int | Severity) -> Severity:
        """Accept 'high', 'HIGH', 4 or a Severity; Sigma's 'informational' means info."""
        if isinstance(value, Severity):
            return value
        if isinstance(value, int):
            try:
                return cls(value)
            except ValueError as e:
                raise ValidationError(f"unknown severity {value!r}") from e
        text = value.strip().lower()
        text = _ALIASES.get(text, text)
        try:
            return cls[text.upper()]
        except KeyError as e:
            raise ValidationError(f"unknown severity {value!r}") from e


_ALIASES = {
    "informational": "info",
    "information": "info",
    "moderate": "medium",
    "crit": "critical",
}
