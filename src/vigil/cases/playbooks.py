"""Incident playbooks: ordered, bilingual response steps kept as YAML files next to this module.

A playbook file (`playbooks/<key>.yaml`) holds `key` (equal to the file name), `title_en`,
`title_vi`, `severity`, `applies_to` and `steps` (each with `title_en` and `title_vi`, and
`after`: the numbers of the earlier steps it waits for, when it depends on them).

`applies_to` patterns are shell-style globs, matched case-insensitively:
- `capability:rule`, e.g. `monitor:*ransom*`, against the finding's capability and rule;
- `tag:<glob>`, e.g. `tag:attack.t1486`, against the `tags` list a detector put in the evidence
  (Sigma rules carry ATT&CK tags there).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Protocol

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic import ValidationError as PydanticValidationError

from vigil.core.errors import CasesError, Location, NotFoundError, ValidationError
from vigil.core.severity import Severity

PLAYBOOK_DIR = Path(__file__).with_name("playbooks")
MIN_STEPS = 1
MAX_STEPS = 30


class PlaybookError(CasesError):
    """A playbook file is not valid YAML or does not have the expected shape."""

    status_code = 500
    code = "playbook"


@dataclass(frozen=True)
class PlaybookStep:
    title_en: str
    title_vi: str
    #: Positions (1-based) of the earlier steps this one waits for.
    after: tuple[int, ...] = ()

    def title(self, lang: str) -> str:
        return self.title_vi if lang == "vi" else self.title_en


@dataclass(frozen=True)
class Playbook:
    key: str
    title_en: str
    title_vi: str
    severity: Severity
    steps: list[PlaybookStep]
    applies_to: list[str]

    def title(self, lang: str) -> str:
        return self.title_vi if lang == "vi" else self.title_en

    def match_strength(self, targets: list[str]) -> int:
        """Literal characters of the most specific pattern that matches; 0 when none does."""
        best = 0
        for pattern in self.applies_to:
            if any(fnmatchcase(t, pattern) for t in targets):
                best = max(best, len(pattern) - sum(pattern.count(c) for c in "*?[]"))
        return best


# --- the file format ---------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _StepFile(_Strict):
    title_en: str = Field(min_length=1, max_length=300)
    title_vi: str = Field(min_length=1, max_length=300)
    after: list[int] = Field(default_factory=list, max_length=MAX_STEPS)


class _PlaybookFile(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")
    title_en: str = Field(min_length=1, max_length=300)
    title_vi: str = Field(min_length=1, max_length=300)
    severity: str
    applies_to: list[str] = Field(default_factory=list)
    steps: list[_StepFile] = Field(min_length=MIN_STEPS, max_length=MAX_STEPS)

    @field_validator("severity")
    @classmethod
    def _known_severity(cls, value: str) -> str:
        try:
            return Severity.parse(value).label
        except ValidationError as e:  # pydantic reports ValueError with the field's location
            raise ValueError(e.message) from e

    @field_validator("steps")
    @classmethod
    def _earlier_steps(cls, steps: list[_StepFile]) -> list[_StepFile]:
        # A step waits only for steps before it, so the order of the file is always workable.
        for position, step in enumerate(steps, start=1):
            for before in step.after:
                if not 1 <= before < position:
                    raise ValueError(
                        f"step {position} waits for step {before}, which is not an earlier step"
                    )
        return steps

    @field_validator("applies_to")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        out = []
        for pattern in value:
            pattern = pattern.strip().lower()
            if ":" not in pattern:
                raise ValueError(f"pattern {pattern!r} must be 'capability:rule' or 'tag:...'")
            out.append(pattern)
        return out


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """1-based line of the YAML node at a pydantic error location, as deep as it can be found."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            node = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
        else:
            break
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def load_playbook(path: Path) -> Playbook:
    """One playbook file, validated; errors name the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise PlaybookError(f"cannot read playbook: {e}", location=Location(str(path))) from e
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(e, "problem", None) or str(e)
        raise PlaybookError(f"not valid YAML: {problem}", location=Location(str(path), line)) from e
    if not isinstance(data, dict):
        raise PlaybookError("a playbook must be a YAML mapping", location=Location(str(path), 1))
    try:
        parsed = _PlaybookFile.model_validate(data)
    except PydanticValidationError as e:
        first = e.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "playbook"
        raise PlaybookError(
            f"{field}: {first['msg']}", location=Location(str(path), _line_of(node, first["loc"]))
        ) from e
    if parsed.key != path.stem:
        raise PlaybookError(
            f"key {parsed.key!r} must equal the file name {path.stem!r}",
            location=Location(str(path), _line_of(node, ("key",))),
        )
    return Playbook(
        key=parsed.key,
        title_en=parsed.title_en,
        title_vi=parsed.title_vi,
        severity=Severity.parse(parsed.severity),
        steps=[
            PlaybookStep(s.title_en, s.title_vi, tuple(sorted(set(s.after)))) for s in parsed.steps
        ],
        applies_to=list(parsed.applies_to),
    )


#: Parsed playbooks by file, with the (mtime, size) they were parsed at: every alert page and
#: case page asks for the playbooks, and parsing the YAML each time cost ~100 ms a request.
_PARSED: dict[Path, tuple[tuple[int, int], Playbook]] = {}
_PARSED_LOCK = threading.Lock()


def _cached_playbook(path: Path) -> Playbook:
    """load_playbook(path), parsed again only when the file changed."""
    try:
        stat = path.stat()
    except OSError as e:
        raise PlaybookError(f"cannot read playbook: {e}", location=Location(str(path))) from e
    stamp = (stat.st_mtime_ns, stat.st_size)
    with _PARSED_LOCK:
        known = _PARSED.get(path)
    if known is not None and known[0] == stamp:
        return known[1]
    playbook = load_playbook(path)
    with _PARSED_LOCK:
        _PARSED[path] = (stamp, playbook)
    return playbook


def load_playbooks(folder: Path | None = None) -> dict[str, Playbook]:
    """Every `*.yaml` playbook of `folder` (the built-in ones by default), by key."""
    folder = folder or PLAYBOOK_DIR
    if not folder.is_dir():
        raise PlaybookError("playbook folder does not exist", location=Location(str(folder)))
    return {pb.key: pb for pb in (_cached_playbook(p) for p in sorted(folder.glob("*.yaml")))}


def get_playbook(key: str, folder: Path | None = None) -> Playbook:
    playbooks = load_playbooks(folder)
    try:
        return playbooks[key]
    except KeyError as e:
        raise NotFoundError(
            f"unknown playbook {key!r}; known: {', '.join(sorted(playbooks))}"
        ) from e


class _FindingLike(Protocol):
    @property
    def capability(self) -> str: ...
    @property
    def rule(self) -> str: ...
    @property
    def evidence(self) -> dict[str, Any]: ...


def match_targets(finding: _FindingLike) -> list[str]:
    """The strings `applies_to` patterns are matched against for one finding."""
    targets = [f"{finding.capability}:{finding.rule}".lower()]
    tags = (finding.evidence or {}).get("tags")
    if isinstance(tags, list):
        targets.extend(f"tag:{t}".lower() for t in tags if isinstance(t, str))
    return targets


def fallback_targets(finding: _FindingLike) -> list[list[str]]:
    """What a finding says beyond its rule, from the most telling down: its ATT&CK tactics
    (`tactic:credential-access`), then its capability (`capability:monitor`). A Sigma rule's
    id is a UUID that no pattern names, so its tactic is what points at a playbook."""
    tactics: list[str] = []
    evidence = finding.evidence or {}
    attack = evidence.get("attack")
    if isinstance(attack, dict) and isinstance(attack.get("tactics"), list):
        tactics = [str(t) for t in attack["tactics"]]
    tags = evidence.get("tags")
    if isinstance(tags, list):
        for tag in tags:
            name = str(tag).lower().removeprefix("attack.")
            if str(tag).lower().startswith("attack.") and not name[1:5].isdigit():
                tactics.append(name)
    return [
        [f"tactic:{t.lower().replace('_', '-')}" for t in dict.fromkeys(tactics)],
        [f"capability:{finding.capability}".lower()],
    ]


def _best(playbooks: dict[str, Playbook], targets: list[str]) -> str | None:
    ranked = sorted(
        ((pb.match_strength(targets), int(pb.severity), pb.key) for pb in playbooks.values()),
        key=lambda r: (-r[0], -r[1], r[2]),
    )
    if not ranked or ranked[0][0] == 0:
        return None
    return ranked[0][2]


def suggest_playbook(
    finding_row: _FindingLike, playbooks: dict[str, Playbook] | None = None
) -> str | None:
    """Key of the playbook that fits the finding best, or None (then the officer is asked).

    The rule and its tags first (the most specific pattern wins); failing those, the
    finding's ATT&CK tactics; failing those, its capability. Ties go to the more severe
    playbook, then to the key in alphabetical order, so the answer never depends on file order.
    """
    return suggest_for([finding_row], playbooks)


def suggest_for(
    findings: Sequence[_FindingLike], playbooks: dict[str, Playbook] | None = None
) -> str | None:
    """The playbook for several findings (most severe first): a rule or tag match on any of
    them beats a tactic match, which beats a capability match; within a level, the earlier
    finding decides."""
    playbooks = load_playbooks() if playbooks is None else playbooks
    levels = [[match_targets(f), *fallback_targets(f)] for f in findings]
    for level in range(3):
        for targets in (of_finding[level] for of_finding in levels):
            if targets and (key := _best(playbooks, targets)) is not None:
                return key
    return None
