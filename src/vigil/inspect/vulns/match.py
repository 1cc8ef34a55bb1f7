"""Components matched against the imported advisories: which are vulnerable, to what, fixed where.

One query takes from the lake the advisories of just the packages the inventory names; versions
are then compared in Python by each ecosystem's rules. An advisory imported twice (two snapshots)
counts once, in its latest modification. A match on an alias in CISA's KEV list is critical.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pyarrow as pa

from vigil.core.severity import Severity
from vigil.inspect.errors import VulnDataError
from vigil.inspect.vulns.inventories import Component
from vigil.inspect.vulns.osv import DATASET, KEV_DATASET
from vigil.inspect.vulns.versions import (
    Compiled,
    compile_ranges,
    in_compiled,
    package_key,
    parse_version,
)
from vigil.lake.datasets import Lake


@dataclass(frozen=True)
class AdvisoryEntry:
    advisory: str
    modified: str
    aliases: tuple[str, ...]
    #: The OSV ranges as stored (JSON), parsed only when a version is tested against them.
    ranges_json: str
    versions: frozenset[str]
    fixed: tuple[str, ...]
    summary: str
    snapshot: str
    ecosystem: str = ""

    @cached_property
    def ranges(self) -> tuple[dict[str, Any], ...]:
        return tuple(json.loads(self.ranges_json))

    @cached_property
    def compiled(self) -> list[Compiled]:
        """The ranges parsed and ordered once, however many components are tested."""
        return compile_ranges(self.ecosystem, self.ranges)

    def covers(self, version_text: str) -> bool:
        """Whether this entry makes the version vulnerable (as `versions.affected`)."""
        if version_text in self.versions:
            return True
        version = parse_version(self.ecosystem, version_text)
        return version is not None and any(in_compiled(version, c) for c in self.compiled)


@dataclass(frozen=True)
class VulnMatch:
    component: Component
    advisory: AdvisoryEntry
    known_exploited: bool

    @property
    def severity(self) -> Severity:
        return Severity.CRITICAL if self.known_exploited else Severity.HIGH

    def as_dict(self) -> dict[str, Any]:
        """The line `vigil vulns match --json` prints for each vulnerable component."""
        return {
            "ecosystem": self.component.ecosystem,
            "name": self.component.name,
            "version": self.component.version,
            "advisory": self.advisory.advisory,
            "aliases": list(self.advisory.aliases),
            "fixed": list(self.advisory.fixed),
            "known_exploited": self.known_exploited,
            "snapshot": self.advisory.snapshot,
            "summary": self.advisory.summary,
        }


Index = dict[tuple[str, str], list[AdvisoryEntry]]
_INDEX_COLUMNS = (
    "advisory",
    "modified",
    "ecosystem",
    "key",
    "aliases",
    "ranges",
    "versions",
    "fixed",
    "summary",
    "snapshot",
)


def load_index(lake: Lake, components: Iterable[Component]) -> Index:
    """The advisories of the named packages, by (ecosystem, lookup name)."""
    keys = {(c.ecosystem, package_key(c.ecosystem, c.name)) for c in components}
    if DATASET not in lake.datasets():
        raise VulnDataError("no OSV advisories imported yet: run `vigil vulns import PATH`")
    if not keys:
        return {}
    wanted = pa.table({"ecosystem": [k[0] for k in keys], "key": [k[1] for k in keys]})
    lake.engine.register_arrow("inspect_wanted", wanted)
    table = lake.query(
        f"SELECT {', '.join('o.' + c for c in _INDEX_COLUMNS)} FROM osv_affected o "
        "JOIN inspect_wanted w ON o.ecosystem = w.ecosystem AND o.key = w.key",
        datasets=[DATASET],
    )
    latest: dict[tuple[str, str, str], AdvisoryEntry] = {}
    grouped: Index = defaultdict(list)
    columns = [table.column(name).to_pylist() for name in _INDEX_COLUMNS]
    for (
        advisory,
        modified,
        ecosystem,
        key,
        aliases,
        ranges,
        versions,
        fixed,
        summary,
        snapshot,
    ) in zip(*columns, strict=True):
        entry_key = (ecosystem, key, advisory)
        entry = AdvisoryEntry(
            advisory,
            modified,
            tuple(aliases or ()),
            ranges,
            frozenset(versions or ()),
            tuple(fixed or ()),
            summary,
            snapshot,
            ecosystem,
        )
        kept = latest.get(entry_key)
        if kept is not None and kept.modified > entry.modified:
            continue
        if kept is not None and kept.modified == entry.modified:
            # One advisory may list a package twice (two affected entries): keep both.
            grouped[entry_key[:2]].append(entry)
            continue
        if kept is not None:
            grouped[entry_key[:2]] = [
                e for e in grouped[entry_key[:2]] if e.advisory != entry.advisory
            ]
        latest[entry_key] = entry
        grouped[entry_key[:2]].append(entry)
    return dict(grouped)


def known_exploited(lake: Lake) -> frozenset[str]:
    """CVE ids on CISA's KEV list, as imported (empty when none was)."""
    if KEV_DATASET not in lake.datasets():
        return frozenset()
    return frozenset(
        lake.query("SELECT DISTINCT cve FROM kev", datasets=[KEV_DATASET]).column("cve").to_pylist()
    )


def match_components(
    components: Iterable[Component], index: Index, kev: frozenset[str]
) -> list[VulnMatch]:
    found: list[VulnMatch] = []
    for component in components:
        entries = index.get((component.ecosystem, package_key(component.ecosystem, component.name)))
        if not entries:
            continue
        seen: set[str] = set()
        for entry in entries:
            if entry.advisory in seen:
                continue
            if entry.covers(component.version):
                seen.add(entry.advisory)
                exploited = any(alias in kev for alias in (entry.advisory, *entry.aliases))
                found.append(VulnMatch(component, entry, exploited))
    return found


def match_inventory(lake: Lake, components: list[Component]) -> list[VulnMatch]:
    return match_components(components, load_index(lake, components), known_exploited(lake))
