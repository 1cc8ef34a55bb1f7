"""What issue 9's Sigma fixes cost or save: field names at ingest, rule loading, the gap walk.

Measures, on ../shared/data:
- the EVTX record reader (`record_from_event`) over the 10,015 events of the 281 ATT&CK files,
  already decoded from the parser's JSON, with and without the common names given to fields
  whose names hold spaces (the per-event cost of issue 9 #14);
- loading the 2,407 SigmaHQ Windows rules with libyaml's loader (now) and with pySigma's own
  `SigmaCollection.from_yaml` (pure-Python PyYAML, before);
- the field-gap walk of tests/test_monitor_field_gaps.py (rules converted, samples parsed).

Each figure is the median of `--repeat` runs (default 3) in this process; the record reader,
a fraction of a second, is the fastest of 5 x `--repeat` runs taken in turns with its variant.

Run: .venv/bin/python bench/bench_monitor_field_names.py [--repeat 3] [--write-docs]
"""

from __future__ import annotations

import argparse
import io
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import evtx  # noqa: E402
import orjson  # noqa: E402

from vigil.monitor.detect.sigma import rules as rules_module  # noqa: E402
from vigil.monitor.ingest.sources import winevent  # noqa: E402

add = winevent.add_common_names

SHARED = ROOT.parent / "shared" / "data"
EVTX = SHARED / "evtx" / "evtx-to-mitre-attack"
RULES = SHARED / "sigma" / "rules" / "windows"
DOCS = ROOT / "docs" / "benchmarks.md"
SECTION = "## Monitor: Sigma field names, null and rule loading (issue 9)"
COMMAND = ".venv/bin/python bench/bench_monitor_field_names.py --write-docs"


def median_time(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def decoded_events() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for path in sorted(EVTX.rglob("*.evtx")):
        parser = evtx.PyEvtxParser(io.BytesIO(path.read_bytes()), number_of_threads=1)
        for item in parser.records_json():
            if type(item) is dict:
                events.append(orjson.loads(item["data"])["Event"])
    return events


def read_all(events: list[dict[str, Any]]) -> None:
    for event in events:
        winevent.record_from_event(event)


def load_with_pysigma_yaml() -> None:
    """load_rules as it was: pySigma parses each file's YAML itself (pure-Python PyYAML)."""
    from sigma.collection import SigmaCollection
    from sigma.exceptions import SigmaRuleLocation

    for path in rules_module.rule_files(RULES):
        SigmaCollection.from_yaml(
            path.read_text("utf-8"),
            collect_errors=True,
            source=SigmaRuleLocation(path),
            resolve_references=False,
        )


def gap_walk() -> tuple[int, int, int, int]:
    """Gaps, rule uses, rules walked, and how many of them say `null` somewhere."""
    from tests import test_monitor_field_gaps as walk

    walk.sample_fields.cache_clear()
    walk.windows_rules.cache_clear()
    gaps = walk.field_gaps()
    rules = walk.windows_rules()
    nulls = sum("IS NULL OR" in (r.sql or "") for r in rules)
    return len(gaps), sum(len(ids) for ids in gaps.values()), len(rules), nulls


def measure(repeat: int) -> dict[str, Any]:
    events = decoded_events()
    spaced = sum(any(" " in k for k in (e.get("EventData") or {})) for e in events)
    # A fraction of a second, on a shared machine: the fastest of many runs counts. The work
    # #14 added is timed alone, over each event's fields as the reader leaves them.
    with mock.patch.object(winevent, "add_common_names", lambda fields: None):
        without_names = min(median_time(lambda: read_all(events), 1) for _ in range(5 * repeat))
        bare = [winevent.record_from_event(e).fields for e in events]
    names_runs = []
    for _ in range(5 * repeat):
        copies = [dict(fields) for fields in bare]
        names_runs.append(median_time(lambda: [add(f) for f in copies], 1))  # noqa: B023
    names = min(names_runs)
    with_names = without_names + names
    libyaml = median_time(lambda: rules_module.load_rules(RULES), repeat)
    pure = median_time(load_with_pysigma_yaml, max(1, repeat - 1))
    start = time.perf_counter()
    gaps, uses, walked, nulls = gap_walk()
    walk = time.perf_counter() - start
    return {
        "events": len(events),
        "spaced": spaced,
        "with_names": with_names,
        "names": names,
        "without_names": without_names,
        "rules": len(rules_module.rule_files(RULES)),
        "libyaml": libyaml,
        "pure": pure,
        "walk": walk,
        "gaps": gaps,
        "uses": uses,
        "walked": walked,
        "nulls": nulls,
        "load": os.getloadavg()[0],
    }


def report(m: dict[str, Any], repeat: int) -> str:
    added = m["names"] / m["without_names"] * 100
    n = m["events"]
    rows = [
        (
            f"EVTX record reader, {n:,} events, before #14",
            f"{m['without_names']:.3f} s ({n / m['without_names']:,.0f} events/s)",
        ),
        (
            f"common names given ({m['spaced']:,} events have spaced names)",
            f"{m['names'] * 1000:.1f} ms ({m['names'] / n * 1e6:.2f} µs an event, {added:+.1f} %)",
        ),
        (
            f"loading {m['rules']:,} SigmaHQ Windows rules, libyaml's loader (now)",
            f"{m['libyaml']:.2f} s",
        ),
        (
            "the same with pySigma's pure-Python YAML (before)",
            f"{m['pure']:.2f} s ({m['pure'] / m['libyaml']:.1f}x slower)",
        ),
        (
            f"field-gap walk ({m['walked']:,} rules converted, samples parsed)",
            f"{m['walk']:.1f} s: {m['gaps']} gaps, {m['uses']} rule uses",
        ),
    ]
    table = "\n".join(f"| {what} | {figure} |" for what, figure in rows)
    return f"""{SECTION}

Command: `{COMMAND}`

Median of {repeat} runs in one process (the record reader and the common names: the fastest of
{5 * repeat} runs); load average {m["load"]:.1f} at start on 2 shared cores. Data:
the 281 EVTX files of `../shared/data/evtx/evtx-to-mitre-attack` and the SigmaHQ Windows rules
of `../shared/data/sigma`. The common names' per cent is of the record reader alone, which is
about a third of "parse only" above.

| what | figure |
|---|---:|
{table}

`field: null` as `(f IS NULL OR f = '')` adds one comparison to the rules that say null
({m["nulls"]} of the {m["walked"]:,} walked).
"""


def write_docs(text: str) -> None:
    """Replace only this benchmark's section of docs/benchmarks.md."""
    current = DOCS.read_text(encoding="utf-8")
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    if pattern.search(current):
        updated = pattern.sub(lambda _: text.rstrip("\n") + "\n\n", current)
    else:
        updated = current.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n"
    DOCS.write_text(updated.rstrip("\n") + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    if not EVTX.is_dir() or not RULES.is_dir():
        raise SystemExit(f"reference data missing: {EVTX} and {RULES} (see ../shared/data)")
    text = report(measure(args.repeat), args.repeat)
    print(text)
    if args.write_docs:
        write_docs(text)


if __name__ == "__main__":
    main()
