"""Findings written per second with fingerprint dedupe, on SQLite and PostgreSQL.

Three passes over N findings: all new; the same again (dedupe: nothing changes); each with one new
occurrence (every row updated). Run: .venv/bin/python bench/bench_findings.py [--n 100000]
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from time import perf_counter

from _setup import make_deployment, start_postgres
from vigil.core.finding import Finding
from vigil.core.severity import Severity
from vigil.deployment import Deployment
from vigil.store.findings import record_findings

UNITS = ["P01", "D01", "C01", "C01-POL"]
CAPS = ["monitor", "inspect", "infowatch", "registry", "candidates"]
T0 = datetime(2026, 2, 1)


def make_findings(n: int, occurrence: str, offset_min: int) -> list[Finding]:
    return [
        Finding(
            capability=CAPS[i % len(CAPS)],
            rule=f"rule-{i % 500}",
            severity=Severity(1 + i % 5),
            unit=UNITS[i % len(UNITS)],
            subject=f"host-{i}",
            title=f"Finding {i}",
            evidence={"i": i},
            observed_at=T0 + timedelta(minutes=offset_min),
            occurrences=(f"{occurrence}-{i}",),
        )
        for i in range(n)
    ]


def run(dep: Deployment, n: int, label: str) -> list[tuple[str, str, float]]:
    rows = []
    for name, occ, off in (
        ("insert new", "a", 0),
        ("repeat (dedupe, no change)", "a", 0),
        ("new occurrence (update)", "b", 5),
    ):
        findings = make_findings(n, occ, off)
        started = perf_counter()
        with dep.store.session() as s:
            result = record_findings(s, findings)
        took = perf_counter() - started
        rows.append((label, name, n / took))
        print(
            f"{label:10} {name:28} {n / took:10,.0f} findings/s  ({took:.2f} s; "
            f"created={result.created} updated={result.updated} unchanged={result.unchanged})"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    dep = make_deployment()
    run(dep, args.n, "sqlite")
    dep.close()
    server = start_postgres()
    if server is not None:
        try:
            url = server.create_database("bench")  # type: ignore[attr-defined]
            dep = make_deployment(url)
            run(dep, args.n, "postgresql")
            dep.close()
        finally:
            server.stop()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
