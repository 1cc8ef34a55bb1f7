"""Candidate checks: declarations imported and checked against the registry of a demo province.

Builds the demo (its candidate list is one candidate per 20 persons: 1,005 at 20,000 persons),
then times, on the same deployment: the import of the list (a fresh copy of the file, so it is
read again), the check alone (registry slice + every fact of every candidate), and the whole
`vigil candidates check` path (check, findings and statuses stored). Run:
  .venv/bin/python bench/bench_candidates.py [--persons 20000]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from time import perf_counter

import _setup  # noqa: F401  (puts the repository on the path)
from vigil.candidates.demo import FILE
from vigil.candidates.detect import check_all
from vigil.candidates.ingest import import_declarations
from vigil.candidates.mapping import Mapping
from vigil.demo.build import build_demo
from vigil.deployment import Deployment
from vigil.detection import run_detectors


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=20_000)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="vigil-bench-candidates-"))
    try:
        started = perf_counter()
        result = build_demo(data, persons=args.persons, force=True)
        print(f"demo of {args.persons:,} persons built in {perf_counter() - started:.1f} s")
        with Deployment.open(result.settings) as dep:
            copy = data / "candidates-again.csv"
            # The same rows with one more (blank) line: new content, so it is read again.
            copy.write_bytes((data / FILE).read_bytes() + b"\n")
            t = perf_counter()
            imported = import_declarations(dep, copy, Mapping())
            t_import = perf_counter() - t
            t = perf_counter()
            checks = check_all(dep)
            t_check = perf_counter() - t
            t = perf_counter()
            [run] = run_detectors(dep, {"candidates"})
            t_whole = perf_counter() - t
        statuses = Counter(c.status.value for c in checks)
        n = len(checks)
        rows, bad = imported.rows, imported.quarantined
        print(f"import: {rows:,} rows ({bad} quarantined) in {t_import:.2f} s")
        rate = n / t_check
        print(f"check: {n:,} candidates in {t_check:.2f} s ({rate:,.0f}/s) {dict(statuses)}")
        r = run.result
        print(
            f"vigil candidates check path (check, {r.created + r.updated + r.unchanged:,} findings "
            f"and {n:,} statuses stored): {t_whole:.2f} s"
        )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory of the process (demo build included): {peak:,.0f} MiB")
    finally:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
