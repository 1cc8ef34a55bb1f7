"""The literal prefilter never hides a match: over random events, every rule that matches an
event when run without its prefilter is among the rules the prefilter lets run."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import compiled
from vigil.lake.duckdb_engine import DuckDBEngine
from vigil.monitor.detect.sigma.rules import convert_rules, load_rules
from vigil.monitor.detect.sigma.runner import CompiledRule, RuleRunner, combine_batches
from vigil.monitor.ingest.events import EventTableBuilder
from vigil.monitor.ingest.sources.base import RawRecord

pytestmark = pytest.mark.filterwarnings("ignore:Arrow output on a DB-API result")

SYSMON = "Microsoft-Windows-Sysmon/Operational"
DETECTIONS = [
    "selection:\n  Image|endswith: '\\\\cmd.exe'\n  CommandLine|contains: 'who'\n"
    "condition: selection",
    "selection:\n  Image|startswith: 'C:\\\\w'\ncondition: selection",
    "selection:\n  CommandLine: 'who am'\ncondition: selection",
    "selection:\n  CommandLine|contains|all: ['a', 'b']\nfilter:\n  Image|endswith: 'x'\n"
    "condition: selection and not filter",
    "a:\n  Image|endswith: '.exe'\nb:\n  CommandLine|startswith: 'b'\ncondition: a or b",
    "selection:\n  CommandLine|re: '^a.*b$'\n  Image|contains: 'w'\ncondition: selection",
    "selection:\n  CommandLine|endswith: 'B'\n  Image|contains: ''\ncondition: selection",
]
#: Values built from the rules' own pieces, so that near misses and matches are frequent.
PIECES = ["C:\\", "w", "cmd.exe", "\\cmd.exe", ".exe", "who", " am", "a", "b", "B", "x", " "]


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> tuple[CompiledRule, ...]:
    folder = tmp_path_factory.mktemp("rules")
    for n, detection in enumerate(DETECTIONS):
        path = folder / f"r{n}.yml"
        path.write_text(
            f"title: Rule {n}\nid: 5f0a3b1c-0000-4000-8000-{n:012d}\nstatus: test\n"
            "logsource:\n    product: windows\n    category: process_creation\ndetection:\n"
            + "".join(f"    {line}\n" for line in detection.splitlines()),
            encoding="utf-8",
        )
    return tuple(compiled(c) for c in convert_rules(load_rules(folder)[0]))


value = st.lists(st.sampled_from(PIECES), max_size=4).map("".join)
event = st.fixed_dictionaries({"Image": st.one_of(st.none(), value), "CommandLine": value})


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events=st.lists(event, min_size=1, max_size=6))
def test_prefilter_never_hides_a_match(
    events: list[dict[str, str | None]], rules: tuple[CompiledRule, ...]
) -> None:
    builder = EventTableBuilder("evtx", lambda host: "P01")
    for i, fields in enumerate(events):
        kept = {k: v for k, v in fields.items() if v is not None}
        builder.add(RawRecord(datetime(2026, 3, 1), "ws1", kept, SYSMON, 1, key=str(i)))
    table = combine_batches([builder.table()])
    runner = RuleRunner(DuckDBEngine())
    filtered, _ = runner.run(table, list(rules))
    unfiltered, stats = runner.run(table, [replace(r, prefilter=True) for r in rules])
    assert stats.candidates == len(rules)
    assert len(rules) == len(DETECTIONS)
    assert sorted((h.rule_id, h.row) for h in filtered) == sorted(
        (h.rule_id, h.row) for h in unfiltered
    )
