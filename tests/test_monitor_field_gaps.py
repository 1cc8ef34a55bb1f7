"""Fields SigmaHQ's Windows rules read that no real sample event carries (issue 9, #14).

Every rule of ../shared/data/sigma's Windows folders is converted; every EVTX file of
../shared/data (the ATT&CK samples and SigmaHQ's regression samples, about 10,600 events) is
parsed as ingest parses it. For each log source that has sample events, a field a rule reads
that none of that source's events carries is a gap: either our parsing names it differently
(Defender's `Threat Name` was one) or the samples hold no event of that kind. The known gaps,
each explained, are the table of docs/monitor-field-gaps.md; a new gap fails here.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import shared_data
from vigil.monitor.detect.sigma.backend import FOLDED_SUFFIX
from vigil.monitor.detect.sigma.pipeline import MAPPINGS, LogsourceMapping
from vigil.monitor.detect.sigma.rules import ConvertedRule, convert_rules, load_rules
from vigil.monitor.ingest.events import CORE_COLUMNS
from vigil.monitor.ingest.sources.base import RawRecord
from vigil.monitor.ingest.sources.evtx import EvtxSource

pytestmark = pytest.mark.shared_data

#: The Windows folders of the SigmaHQ snapshot (emerging threats are sorted by year, not OS).
RULE_FOLDERS = (("sigma", "rules", "windows"), ("sigma", "rules-threat-hunting", "windows"))
EVTX_FOLDERS = (("evtx",), ("sigma", "regression_data"))
GAPS_DOC = Path(__file__).resolve().parents[1] / "docs" / "monitor-field-gaps.md"
_ROW = re.compile(r"^\| `([^`]+)` \| `([^`]+)` \| (\d+) \|", re.M)

Gap = tuple[str, str]


def _selects(mapping: LogsourceMapping, record: RawRecord) -> bool:
    """Whether `record` is one of the events the log source's conditions select."""
    for column, wanted in mapping.conditions.items():
        if column == "channel":
            if record.channel.lower() not in {str(v).lower() for v in wanted}:
                return False
        elif column == "event_code":
            if record.event_code not in wanted:
                return False
        else:  # syslog and web sources: no EVTX event is one of them
            return False
    return True


@cache
def sample_fields() -> dict[str, frozenset[str]]:
    """Per log source, the (lower-cased) names of the fields its sample events carry."""
    mappings = [m for m in MAPPINGS if m.conditions]
    seen: dict[str, set[str]] = defaultdict(set)
    for parts in EVTX_FOLDERS:
        for path in sorted(shared_data(*parts).rglob("*.evtx")):
            for record in EvtxSource().read(path):
                if not isinstance(record, RawRecord):
                    continue
                names = {name.lower() for name in record.fields}
                for mapping in mappings:
                    if _selects(mapping, record):
                        seen[mapping.key] |= names
    return {key: frozenset(names) for key, names in seen.items()}


@cache
def windows_rules() -> tuple[ConvertedRule, ...]:
    converted: list[ConvertedRule] = []
    for parts in RULE_FOLDERS:
        files, _ = load_rules(shared_data(*parts))
        converted += convert_rules(files)
    return tuple(converted)


def field_gaps() -> dict[Gap, set[str]]:
    """(log source, field) -> ids of the rules that read that field, for each field no sample
    event of that log source carries (log sources without sample events are left out)."""
    carried = sample_fields()
    gaps: dict[Gap, set[str]] = defaultdict(set)
    for rule in windows_rules():
        names = carried.get(rule.group_key)
        if rule.sql is None or names is None:
            continue
        for column in rule.columns:
            field = column.removesuffix(FOLDED_SUFFIX)
            if field not in CORE_COLUMNS and field.lower() not in names:
                gaps[(rule.group_key, field)].add(rule.id)
    return dict(gaps)


def documented_gaps() -> dict[Gap, int]:
    """The table of docs/monitor-field-gaps.md: (log source, field) -> number of rules."""
    text = GAPS_DOC.read_text("utf-8")
    return {(m.group(1), m.group(2)): int(m.group(3)) for m in _ROW.finditer(text)}


def test_every_field_gap_is_known_and_explained() -> None:
    found = {gap: len(ids) for gap, ids in field_gaps().items()}
    documented = documented_gaps()
    new = sorted(set(found) - set(documented))
    gone = sorted(set(documented) - set(found))
    assert not new, f"new field gaps, explain them in {GAPS_DOC.name} or fix the parsing: {new}"
    assert not gone, f"gaps no longer found (fixed?), drop them from {GAPS_DOC.name}: {gone}"
    assert found == documented


def test_the_walk_covers_the_rules_and_the_samples() -> None:
    """The walk is not vacuous: thousands of rules, and the log sources the samples hold."""
    rules = windows_rules()
    assert len(rules) >= 2_400
    assert sum(r.sql is not None for r in rules) >= 2_390
    carried = sample_fields()
    for key in (
        "windows/process_creation",
        "windows/service/security",
        "windows/service/windefend",
    ):
        assert key in carried
    # The fixes of issue 9 show here: Defender's spaced names and 4688's LogonId are carried.
    assert {"threatname", "threat name", "newvalue", "new value"} <= carried[
        "windows/service/windefend"
    ]
    assert "logonid" in carried["windows/process_creation"]
