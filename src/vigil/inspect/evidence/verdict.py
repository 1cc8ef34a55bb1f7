"""What an evidence check concludes about the controls it can answer."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Verdict:
    """One check's answer for the controls that name it: a status, and why, in codes and words."""

    check: str
    status: str  # pass, partial, fail
    reasons: list[str] = field(default_factory=list)
    #: Short stable codes of the reasons ("stale", "no-offline-copy"...), for tests and demos.
    codes: list[str] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)

    def short(self, code: str, reason: str) -> None:
        self.codes.append(code)
        self.reasons.append(reason)

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "status": self.status,
            "reasons": self.reasons,
            "codes": self.codes,
            "detail": self.detail,
        }


def fold(text: str) -> str:
    """Lower case without diacritics (đ as d): how headings are compared in both languages."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
