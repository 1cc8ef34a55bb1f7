"""One alert as a line of the queue reads it: the title without the deployment's absolute paths
(a file keeps its name; the path stays in the detail), no rule id (a Sigma rule's id is a UUID:
its title is the row's title, the id is on the alert's page), and the ATT&CK tactic and the
capability named in the reader's language."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from vigil.core.i18n import _

#: ATT&CK enterprise tactics by the short name Sigma tags and the detectors' evidence use
#: (`attack.credential-access`), with the English name the catalog translates.
TACTICS = {
    "reconnaissance": "Reconnaissance",
    "resource-development": "Resource development",
    "initial-access": "Initial access",
    "execution": "Execution",
    "persistence": "Persistence",
    "privilege-escalation": "Privilege escalation",
    "defense-evasion": "Defense evasion",
    "stealth": "Stealth",
    "credential-access": "Credential access",
    "discovery": "Discovery",
    "lateral-movement": "Lateral movement",
    "collection": "Collection",
    "command-and-control": "Command and control",
    "exfiltration": "Exfiltration",
    "impact": "Impact",
}

# The folders of an absolute path: `C:\Users\x\` or `/srv/vigil/demo/` (not a URL's `//host/`,
# nor the path part of `example.com/a/b`, nor a web request's `/page?id=1`).
_WINDOWS_DIRS = re.compile(r"\b[A-Za-z]:\\(?:[^\\\s\"'<>|]+\\)+")
_POSIX_DIRS = re.compile(r"(?<![\w./~-])/(?:[^/\s\"'<>|]+/)+")


class _AlertLike(Protocol):
    @property
    def capability(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def title_vi(self) -> str | None: ...
    @property
    def subject(self) -> str: ...
    @property
    def evidence(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class AlertRow:
    title: str
    subject: str
    capability: str
    tactics: list[str] = field(default_factory=list)
    #: A rule's own readable name when the title does not carry it (a YARA rule's description).
    rule_title: str | None = None


def without_dirs(text: str) -> str:
    """`text` with each absolute path cut to its last part (the file's name)."""
    return _POSIX_DIRS.sub("", _WINDOWS_DIRS.sub("", text))


def tactics_of(evidence: Mapping[str, Any] | None) -> list[str]:
    """The ATT&CK tactics of an alert, from its evidence's `attack.tactics` or its tags."""
    evidence = evidence or {}
    found: list[str] = []
    attack = evidence.get("attack")
    if isinstance(attack, dict) and isinstance(attack.get("tactics"), list):
        found.extend(str(t).lower().replace("_", "-") for t in attack["tactics"])
    tags = evidence.get("tags")
    if isinstance(tags, list):
        names = (str(t).lower().removeprefix("attack.") for t in tags if isinstance(t, str))
        found.extend(name for name in names if name in TACTICS)
    return [t for t in dict.fromkeys(found) if t in TACTICS]


def _rule_title(evidence: Mapping[str, Any]) -> str | None:
    meta = evidence.get("meta")
    if isinstance(meta, dict) and isinstance(meta.get("description"), str):
        return meta["description"].strip()[:200] or None
    return None


def alert_row(row: _AlertLike, lang: str, capability_labels: Mapping[str, str]) -> AlertRow:
    """How the queue shows `row` to a reader of `lang` (`capability_labels`: plugin -> msgid)."""
    title = row.title_vi if lang == "vi" and row.title_vi else row.title
    evidence = row.evidence or {}
    return AlertRow(
        title=without_dirs(title),
        subject=without_dirs(row.subject),
        capability=_(capability_labels.get(row.capability, row.capability), lang),
        tactics=[_(TACTICS[t], lang) for t in tactics_of(evidence)],
        rule_title=_rule_title(evidence),
    )
