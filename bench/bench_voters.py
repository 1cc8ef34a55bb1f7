"""Voter lists at scale: build every commune's list from N persons, again (the diff), and run the
voter-list anomaly rules, on this machine.

    .venv/bin/python bench/bench_voters.py 20000 100000

For each N: the demo province's population only (persons, households, deaths and moves, with
the planted bursts), timed with the share spent drawing the moves; then every commune's first
list built and stored (SQLite), a second build of all of them (nothing changed: the diff
against the first), and `voter-move-burst` + `voter-removal-burst` over every move and death.
Prints wall times, voters listed, rows stored per second and peak resident memory.
"""

from __future__ import annotations

import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import vigil.demo.population as population
from vigil.core.config import write_secret
from vigil.demo.build import demo_settings
from vigil.demo.population import generate_population
from vigil.demo.province import write_province
from vigil.deployment import Deployment
from vigil.plugins import DemoContext
from vigil.registry.voters.anomalies import voter_anomalies
from vigil.registry.voters.build import build_voter_lists, communes
from vigil.store.units import sync_units

_spent = [0.0]
_plant_moves = population.plant_moves


def _timed_plant_moves(*args, **kwargs):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    try:
        return _plant_moves(*args, **kwargs)
    finally:
        _spent[0] += time.perf_counter() - started


def run(persons: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="vigil-votersbench-"))
    write_province(work)
    write_secret(work)
    _spent[0] = 0.0
    population.plant_moves = _timed_plant_moves  # type: ignore[assignment]
    with Deployment.open(demo_settings(work)) as dep:
        with dep.store.session() as session:
            sync_units(session, dep.units)
        started = time.perf_counter()
        pop = generate_population(DemoContext(deployment=dep, seed=2027, persons=persons))
        generated = time.perf_counter() - started
        actor, targets = dep.system("bench"), communes(dep)
        times = []
        for _ in range(2):
            started = time.perf_counter()
            with dep.store.session() as session:
                built = build_voter_lists(session, dep, actor, targets)
            times.append(time.perf_counter() - started)
        started = time.perf_counter()
        findings = voter_anomalies(dep)
        detected = time.perf_counter() - started
    voters = sum(b.voters for b in built)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"persons {pop.persons:>9,}  moves {pop.moves:>6,}  population {generated:5.1f} s "
        f"(moves {_spent[0]:4.2f} s)  lists {len(built)}  voters {voters:>9,}  "
        f"first build {times[0]:5.2f} s ({voters / times[0]:,.0f} voters/s)  "
        f"second build {times[1]:5.2f} s  anomalies {detected:4.2f} s ({len(findings)} findings)  "
        f"peak RSS {peak:,.0f} MiB"
    )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    for n in [int(a) for a in sys.argv[1:]] or [20_000]:
        run(n)
