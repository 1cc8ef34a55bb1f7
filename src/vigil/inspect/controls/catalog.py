"""The control catalog and its profiles: read from YAML shaped like OSCAL, validated with places.

A catalog holds groups of controls (management: policy, organisation, staff, design, operation,
risk, decommissioning; technical: network, server, application, data), each control with the
lowest security level (1-5) that requires it, a severity, cross-references and, when evidence can
answer it, the check that does. A profile picks the controls one kind of unit is inspected
against, at a target level. `validate_catalog` returns every problem with its file and line; a
catalog with an error is refused whole (`load_catalog`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from vigil.core.problems import InputProblem
from vigil.core.severity import Severity
from vigil.inspect.errors import CatalogError

BUILTIN = Path(__file__).resolve().parent.parent / "catalog" / "builtin.yaml"
CLASSES = ("management", "technical")
#: Automated checks an evidence file can answer a control with.
CHECKS = ("manual", "backup", "irplan", "irplan-exercise", "vulns", "lynis-index", "lynis-warnings")
LINK_FRAMEWORKS = ("cis-v8", "cisa-cpg", "nist-800-53")
LEVELS = range(1, 6)


class _Marked(dict[str, Any]):
    """A YAML mapping that remembers the line it starts on and the line of each key."""

    line: int = 0
    key_lines: dict[str, int]


class _MarkedLoader(yaml.SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> _Marked:  # type: ignore[override]
        marked = _Marked({str(k): v for k, v in super().construct_mapping(node, deep=True).items()})
        marked.line = node.start_mark.line + 1
        marked.key_lines = {
            str(k.value): k.start_mark.line + 1 for k, _ in node.value if hasattr(k, "value")
        }
        return marked


_MarkedLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _MarkedLoader.construct_mapping,
)


@dataclass(frozen=True)
class Control:
    id: str
    group: str
    title: str
    title_vi: str
    statement: str
    level: int
    severity: Severity
    check: str = "manual"
    links: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def name(self, lang: str) -> str:
        return self.title_vi if lang == "vi" and self.title_vi else self.title


@dataclass(frozen=True)
class Group:
    id: str
    cls: str
    title: str
    title_vi: str
    controls: tuple[str, ...]

    def name(self, lang: str) -> str:
        return self.title_vi if lang == "vi" and self.title_vi else self.title


@dataclass(frozen=True)
class Profile:
    id: str
    title: str
    title_vi: str
    level: int
    controls: tuple[str, ...]
    description: str = ""

    def name(self, lang: str) -> str:
        return self.title_vi if lang == "vi" and self.title_vi else self.title


@dataclass(frozen=True)
class Catalog:
    id: str
    version: str
    title: str
    groups: tuple[Group, ...]
    controls: dict[str, Control]
    profiles: dict[str, Profile]
    source: str = ""

    def profile(self, profile_id: str) -> Profile:
        try:
            return self.profiles[profile_id]
        except KeyError as e:
            known = ", ".join(sorted(self.profiles))
            raise CatalogError(f"no profile {profile_id!r} (known: {known})") from e

    def controls_of(self, profile: Profile) -> list[Control]:
        """The profile's controls in catalog order."""
        wanted = set(profile.controls)
        return [c for c in self.controls.values() if c.id in wanted]

    def with_check(self, check: str) -> list[Control]:
        return [c for c in self.controls.values() if c.check == check]


class _Checker:
    """Collects problems while reading one catalog file."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[InputProblem] = []

    def error(self, node: Any, message: str, key: str | None = None, code: str = "") -> None:
        line = None
        if isinstance(node, _Marked):
            line = node.key_lines.get(key, node.line) if key else node.line
        self.problems.append(InputProblem.error(self.source, message, line=line, code=code))

    def text(self, node: _Marked, key: str, where: str, required: bool = True) -> str:
        value = node.get(key)
        if value is None or value == "":
            if required:
                self.error(node, f"{where}: {key!r} is missing", code="missing")
            return ""
        if not isinstance(value, str):
            self.error(node, f"{where}: {key!r} must be text", key, code="type")
            return ""
        return value

    def mapping(self, value: Any, where: str, parent: Any = None) -> _Marked | None:
        if isinstance(value, _Marked):
            return value
        self.error(parent, f"{where} must be a mapping", code="type")
        return None

    def items(self, node: _Marked, key: str, where: str) -> list[Any]:
        value = node.get(key)
        if not isinstance(value, list):
            self.error(node, f"{where}: {key!r} must be a list", key, code="type")
            return []
        return value


def _read_yaml(path: Path) -> tuple[Any, list[InputProblem]]:
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        return None, [InputProblem.error(source, f"cannot read: {e.strerror}", code="io")]
    except UnicodeDecodeError as e:
        return None, [InputProblem.error(source, f"not UTF-8: {e.reason}", code="not-utf8")]
    try:
        return yaml.load(text, Loader=_MarkedLoader), []  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(e, "problem", None) or str(e)
        return None, [
            InputProblem.error(source, f"not valid YAML: {reason}", line=line, code="yaml")
        ]


def _links(ck: _Checker, node: _Marked, where: str) -> dict[str, tuple[str, ...]]:
    raw = node.get("links") or {}
    if not isinstance(raw, dict):
        ck.error(node, f"{where}: 'links' must be a mapping", "links", code="type")
        return {}
    links: dict[str, tuple[str, ...]] = {}
    for framework, ids in raw.items():
        if framework not in LINK_FRAMEWORKS:
            known = ", ".join(LINK_FRAMEWORKS)
            ck.error(raw, f"{where}: unknown framework {framework!r} (known: {known})", framework)
            continue
        if not isinstance(ids, list) or not all(isinstance(i, str | int | float) for i in ids):
            ck.error(raw, f"{where}: {framework} must list ids", framework, code="type")
            continue
        links[framework] = tuple(str(i) for i in ids)
    return links


def _control(ck: _Checker, node: _Marked, group: str) -> Control | None:
    cid = ck.text(node, "id", f"a control of group {group!r}")
    where = f"control {cid or '?'}"
    title = ck.text(node, "title", where)
    statement = ck.text(node, "statement", where)
    level = node.get("level")
    if not isinstance(level, int) or isinstance(level, bool) or level not in LEVELS:
        ck.error(node, f"{where}: 'level' must be a whole number from 1 to 5", "level", "level")
        level = 0
    try:
        severity = Severity.parse(node.get("severity", "medium"))
    except Exception:
        ck.error(node, f"{where}: unknown severity {node.get('severity')!r}", "severity")
        severity = Severity.MEDIUM
    check = node.get("check", "manual")
    if check not in CHECKS:
        ck.error(node, f"{where}: unknown check {check!r} (known: {', '.join(CHECKS)})", "check")
    links = _links(ck, node, where)
    if not (cid and title and statement and level):
        return None
    title_vi = ck.text(node, "title_vi", where, required=False)
    return Control(cid, group, title, title_vi, statement, level, severity, check, links)


def _groups(ck: _Checker, catalog: _Marked) -> Iterator[tuple[Group, list[Control]]]:
    for raw in ck.items(catalog, "groups", "catalog"):
        node = ck.mapping(raw, "a group", catalog)
        if node is None:
            continue
        gid = ck.text(node, "id", "a group")
        cls = node.get("class")
        if cls not in CLASSES:
            ck.error(node, f"group {gid}: 'class' must be one of {', '.join(CLASSES)}", "class")
        controls = []
        for item in ck.items(node, "controls", f"group {gid}"):
            cnode = ck.mapping(item, f"a control of group {gid}", node)
            control = _control(ck, cnode, gid) if cnode is not None else None
            if control is not None:
                controls.append(control)
        title = ck.text(node, "title", f"group {gid}")
        yield (
            Group(
                gid, str(cls), title, node.get("title_vi", "") or "", tuple(c.id for c in controls)
            ),
            controls,
        )


def _profile(ck: _Checker, node: _Marked, controls: dict[str, Control]) -> Profile | None:
    pid = ck.text(node, "id", "a profile")
    where = f"profile {pid or '?'}"
    level = node.get("level")
    if not isinstance(level, int) or isinstance(level, bool) or level not in LEVELS:
        ck.error(node, f"{where}: 'level' must be a whole number from 1 to 5", "level", "level")
        level = 0
    wanted = ck.items(node, "controls", where)
    for cid in wanted:
        if cid not in controls:
            ck.error(node, f"{where}: no control {cid!r} in the catalog", "controls", "unknown")
        elif level and controls[cid].level > level:
            ck.error(
                node,
                f"{where}: control {cid} starts at level {controls[cid].level}, "
                f"above the profile's level {level}",
                "controls",
                "level",
            )
    title = ck.text(node, "title", where)
    if not (pid and title and level):
        return None
    return Profile(
        pid,
        title,
        node.get("title_vi", "") or "",
        level,
        tuple(map(str, wanted)),
        node.get("description", "") or "",
    )


def _build(ck: _Checker, doc: Any) -> Catalog | None:
    root = ck.mapping(doc, "the file")
    if root is None:
        return None
    catalog = ck.mapping(root.get("catalog"), "'catalog'", root)
    if catalog is None:
        return None
    metadata = ck.mapping(catalog.get("metadata"), "'catalog.metadata'", catalog)
    groups: list[Group] = []
    controls: dict[str, Control] = {}
    for group, members in _groups(ck, catalog):
        if any(g.id == group.id for g in groups):
            ck.error(catalog, f"group {group.id} is defined twice", "groups", "duplicate")
        groups.append(group)
        for control in members:
            if control.id in controls:
                ck.error(catalog, f"control {control.id} is defined twice", "groups", "duplicate")
            controls[control.id] = control
    profiles: dict[str, Profile] = {}
    for raw in root.get("profiles") or []:
        node = ck.mapping(raw, "a profile", root)
        profile = _profile(ck, node, controls) if node is not None else None
        if profile is not None:
            if profile.id in profiles:
                ck.error(node, f"profile {profile.id} is defined twice", "id", "duplicate")
            profiles[profile.id] = profile
    version = str(metadata.get("version", "")) if metadata is not None else ""
    title = metadata.get("title", "") if metadata is not None else ""
    if metadata is not None and not version:
        ck.error(metadata, "catalog.metadata: 'version' is missing", code="missing")
    cat_id = ck.text(catalog, "id", "catalog")
    return Catalog(cat_id, version, str(title), tuple(groups), controls, profiles, ck.source)


def validate_catalog(path: Path) -> tuple[Catalog | None, list[InputProblem]]:
    """Read a catalog file: what it holds, and every problem with its line."""
    doc, problems = _read_yaml(path)
    if problems:
        return None, problems
    ck = _Checker(str(path))
    catalog = _build(ck, doc)
    return (catalog if not any(p.is_error for p in ck.problems) else None), ck.problems


def load_catalog(path: Path | None = None) -> Catalog:
    """The catalog at `path` (the built-in one by default); a catalog with errors is refused."""
    if path is None:
        return builtin_catalog()
    catalog, problems = validate_catalog(path)
    if catalog is None:
        first = next(p for p in problems if p.is_error)
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise CatalogError(f"{first}{more}")
    return catalog


@cache
def builtin_catalog() -> Catalog:
    catalog, problems = validate_catalog(BUILTIN)
    if catalog is None:
        raise CatalogError("; ".join(map(str, problems)))
    return catalog
