"""Inspections: OSV import, SBOM matching and scoring, measured.

1. Import every advisory of ../shared/data/osv (PyPI YAML, Go and crates JSON) into a fresh
   deployment's lake: wall time and peak memory (this process's max RSS), then again (nothing
   added).
2. Match a CycloneDX SBOM of N components (default 10,000) built from real package names of the
   data (half at a version an advisory lists, half at an unlisted one; a few unknown names):
   load of the advisories of those packages, then version matching; components per second.
3. Score N inspections (default 1,000) of the election-systems profile (39 controls) with their
   answers read from the store, and close one: inspections scored per second.

Run: .venv/bin/python bench/bench_inspect.py [--components 10000] [--inspections 1000]
osv-scanner is not installable here (no Go toolchain or release binary reachable), so there is
no peer column.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
from datetime import datetime, timedelta
from pathlib import Path
from time import perf_counter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, make_deployment
from vigil.inspect.controls.catalog import builtin_catalog
from vigil.inspect.vulns.inventories import read_inventory
from vigil.inspect.vulns.match import known_exploited, load_index, match_components
from vigil.inspect.vulns.osv import import_path
from vigil.inspect.workflow import inspections as wf

OSV = ROOT.parent / "shared" / "data" / "osv"
KEV = ROOT.parent / "shared" / "data" / "kev" / "known_exploited_vulnerabilities.json"


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _sbom(dep_lake: object, n: int, path: Path) -> None:
    table = dep_lake.query(  # type: ignore[attr-defined]
        "SELECT ecosystem, package, versions FROM osv_affected", datasets=["osv_affected"]
    ).to_pylist()
    seen: set[tuple[str, str]] = set()
    table = [
        r
        for r in table
        if (r["ecosystem"], r["package"]) not in seen
        and not seen.add((r["ecosystem"], r["package"]))
    ]  # type: ignore[func-returns-value]
    rng = random.Random(7)
    purl = {"PyPI": "pypi", "Go": "golang", "crates.io": "cargo"}
    components = []
    for i in range(n):
        row = table[i % len(table)]
        listed = row["versions"]
        version = rng.choice(listed) if listed and i % 2 == 0 else f"{rng.randint(50, 99)}.0.0"
        name = row["package"] if i % 50 else f"unknown-package-{i}"
        components.append({"name": name, "purl": f"pkg:{purl[row['ecosystem']]}/{name}@{version}"})
    path.write_text(json.dumps({"bomFormat": "CycloneDX", "components": components}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--components", type=int, default=10_000)
    parser.add_argument("--inspections", type=int, default=1_000)
    args = parser.parse_args()
    dep = make_deployment()
    started = perf_counter()
    result = import_path(dep.lake, dep.quarantine, OSV)
    first = perf_counter() - started
    rss = _max_rss_mb()
    started = perf_counter()
    again = import_path(dep.lake, dep.quarantine, OSV)
    second = perf_counter() - started
    import_path(dep.lake, dep.quarantine, KEV)
    size = sum(f.stat().st_size for f in OSV.rglob("*") if f.is_file()) / 2**20
    print(
        f"OSV import: {result.files:,} files ({size:.0f} MiB), {result.advisories:,} advisories, "
        f"{result.rows:,} package entries in {first:.1f} s; peak RSS {rss:.0f} MB; "
        f"again: {again.advisories} added, {again.skipped:,} skipped in {second:.1f} s"
    )

    sbom = dep.settings.data / "sbom.json"
    _sbom(dep.lake, args.components, sbom)
    for run in range(2):
        started = perf_counter()
        components, _problems = read_inventory(sbom)
        parsed = perf_counter()
        index = load_index(dep.lake, components)
        kev = known_exploited(dep.lake)
        loaded = perf_counter()
        matches = match_components(components, index, kev)
        done = perf_counter()
        total = done - started
        print(
            f"SBOM match ({'cold' if run == 0 else 'warm'}): {len(components):,} components, "
            f"{len(matches):,} vulnerable matches in {total:.2f} s "
            f"(read {parsed - started:.2f}, load {loaded - parsed:.2f}, match {done - loaded:.2f}) "
            f"= {len(components) / total:,.0f} components/s"
        )

    catalog = builtin_catalog()
    actor = dep.system("bench")
    profile = catalog.profile("election-systems")
    now = datetime(2027, 3, 1)
    unit = dep.units.root.code
    rng = random.Random(3)
    with dep.store.session() as s:
        ids = []
        for i in range(args.inspections):
            row = wf.plan_inspection(s, actor, catalog, unit, profile.id, now - timedelta(days=i))
            for cid in profile.controls:
                status = rng.choice(["pass", "pass", "pass", "partial", "fail", "na"])
                wf.record_answer(s, actor, catalog, row.id, cid, status, now=now)
            ids.append(row.id)
    with dep.store.reader() as s:
        started = perf_counter()
        for inspection_id in ids:
            wf.view_inspection(s, catalog, wf.get_inspection(s, actor, inspection_id))
        elapsed = perf_counter() - started
    print(
        f"Scoring: {len(ids):,} inspections of {len(profile.controls)} controls with trend "
        f"in {elapsed:.2f} s = {len(ids) / elapsed:,.0f} inspections/s"
    )


if __name__ == "__main__":
    main()
