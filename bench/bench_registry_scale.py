"""The registry at scale: import, quality rules and deduplication of N persons on this machine.

    .venv/bin/python bench/bench_registry_scale.py 100000 [1000000]

Builds a demo province of N persons (its population only), exports the persons to one CSV
extract, imports it into a fresh deployment with `vigil registry import`'s function, then runs
every quality rule (record linkage included) once. Prints wall time per stage and the peak
resident memory of the process.
"""

from __future__ import annotations

import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.csv as pacsv

from _setup import make_deployment  # type: ignore[import-not-found]
from vigil.demo.build import build_demo
from vigil.lake.datasets import Lake
from vigil.registry.ingest.extract import import_extract
from vigil.registry.rules.check import check_registry


def run(persons: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="vigil-regbench-"))
    built = build_demo(work / "demo", persons=persons, seed=2027)
    lake = Lake(built.data_dir / "lake")
    extract = work / "persons.csv"
    pacsv.write_csv(lake.read("population_persons"), extract)
    for name in ("population_households", "population_deaths"):
        pacsv.write_csv(lake.read(name), work / f"{name}.csv")
    dep = make_deployment()
    # The demo province's units, so the rules know its communes and villages.
    shutil.copyfile(built.data_dir / "vigil.toml", dep.settings.data / "vigil.toml")
    dep.close()
    from vigil.deployment import Deployment

    dep = Deployment.open(dep.settings)
    started = time.perf_counter()
    report = import_extract(dep, extract, "persons")
    import_extract(dep, work / "population_households.csv", "households")
    import_extract(dep, work / "population_deaths.csv", "deaths")
    imported = time.perf_counter() - started
    started = time.perf_counter()
    result = check_registry(dep)
    checked = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    dups = result.counts.get("duplicate-person", 0)
    print(
        f"persons {report.rows:>9,}  import {imported:6.1f} s  rules+dedupe {checked:6.1f} s  "
        f"total {imported + checked:6.1f} s  peak RSS {peak:,.0f} MiB  "
        f"duplicate pairs {dups:,}  findings {len(result.findings):,}"
    )
    dep.close()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    for n in sys.argv[1:] or ["100000"]:
        run(int(n))
