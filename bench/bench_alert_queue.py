"""Alert queue latency on a store of N findings (default 1,000,000) in SQLite (or PostgreSQL).

Builds a province of 34 units, fills the findings table directly (the queue reads only that
table), then times each query shape 20 times and prints p50 and p95 in milliseconds.
Run: .venv/bin/python bench/bench_alert_queue.py [--n 1000000] [--postgres]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from time import perf_counter

from fastapi import FastAPI

from _setup import start_postgres
from vigil.cases.queue import AlertFilter, alert_counts, alert_queue, alerts_over_time
from vigil.core.access import Actor, Role
from vigil.core.config import Settings, write_secret
from vigil.core.severity import Severity
from vigil.deployment import Deployment
from vigil.plugins import DashboardPanel
from vigil.store.models import FindingRow
from vigil.store.units import sync_units

T0 = datetime(2026, 1, 1)
STATUSES = (
    ["new"] * 50
    + ["acknowledged"] * 10
    + ["resolved"] * 25
    + ["false_positive"] * 10
    + ["merged"] * 3
    + ["escalated"] * 2
)
CAPS = (
    ["monitor"] * 600 + ["infowatch"] * 200 + ["registry"] * 150 + ["inspect"] * 49 + ["candidates"]
)


def province_toml() -> str:
    parts = [
        '[province]\ncode = "P01"\nname_vi = "Tỉnh Đo"\nname_en = "Bench Province"\n',
    ]
    for d in range(1, 6):
        parts.append(
            f'[[units]]\ncode = "D{d:02}"\nkind = "department"\n'
            f'name_vi = "Sở {d}"\nname_en = "Dept {d}"\n'
        )
    for c in range(1, 15):
        parts.append(
            f'[[units]]\ncode = "C{c:02}"\nkind = "commune"\n'
            f'name_vi = "Xã {c}"\nname_en = "Commune {c}"\n'
        )
        parts.append(
            f'[[units]]\ncode = "C{c:02}-POL"\nkind = "commune_police"\nparent = "C{c:02}"\n'
            f'name_vi = "Công an xã {c}"\nname_en = "Commune police {c}"\n'
        )
    parts.append(
        """
[calendar]
name = "Bench"
voting_day = 2026-03-15T07:00:00+07:00
[calendar.phases.before]
starts = 2026-01-01T00:00:00+07:00
ends = 2026-03-14T00:00:00+07:00
alert_threshold = "medium"
response_hours = { critical = 2, high = 8, medium = 48, low = 168 }
[calendar.phases.during]
starts = 2026-03-14T00:00:00+07:00
ends = 2026-03-17T00:00:00+07:00
alert_threshold = "low"
response_hours = { critical = 0.5, high = 1, medium = 4, low = 24 }
[calendar.phases.after]
starts = 2026-03-17T00:00:00+07:00
ends = 2026-06-30T00:00:00+07:00
alert_threshold = "high"
response_hours = { critical = 4, high = 24, medium = 72, low = 336 }
"""
    )
    return "\n".join(parts)


def fill(dep: Deployment, n: int) -> None:
    rng = random.Random(7)
    units = [u.code for u in dep.units]
    table = FindingRow.__table__
    batch: list[dict[str, object]] = []
    started = perf_counter()
    with dep.store.engine.begin() as conn:
        for i in range(n):
            first = T0 + timedelta(minutes=rng.randrange(60 * 24 * 60))
            batch.append(
                {
                    "fingerprint": f"{i:032x}",
                    "capability": rng.choice(CAPS),
                    "rule": f"rule-{rng.randrange(500)}",
                    "severity": rng.randint(1, 5),
                    "unit": rng.choice(units),
                    "subject": f"host-{i}",
                    "title": f"Finding {i}",
                    "title_vi": "",
                    "evidence": {},
                    "first_seen": first,
                    "last_seen": first + timedelta(minutes=rng.randrange(600)),
                    "count": 1,
                    "status": rng.choice(STATUSES),
                    "status_reason": "",
                    "updated_at": first,
                }
            )
            if len(batch) == 20_000:
                conn.execute(table.insert(), batch)
                batch.clear()
        if batch:
            conn.execute(table.insert(), batch)
    if dep.store.dialect == "postgresql":
        # What autovacuum does on a live server: statistics, and a visibility map so that
        # counts can be answered from the indexes alone.
        with dep.store.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE findings"
            )
    print(f"filled {n:,} findings in {perf_counter() - started:.1f} s")


def timed(label: str, fn: Callable[[], object], repeat: int = 20) -> None:
    fn()  # warm the page cache once
    samples = []
    for _ in range(repeat):
        started = perf_counter()
        result = fn()
        samples.append((perf_counter() - started) * 1000)
    samples.sort()
    p95 = samples[max(0, round(0.95 * len(samples)) - 1)]
    print(f"{label:<52} p50 {statistics.median(samples):7.1f} ms   p95 {p95:7.1f} ms   {result}")


def time_pages(dep: Deployment) -> None:
    """The alert queue page through the whole web stack: auth, query, template, response."""
    from fastapi.testclient import TestClient

    from vigil.store.users import create_user
    from vigil.web.app import create_app

    with dep.store.session() as s:
        create_user(s, dep.units, "bench.admin", "bench-password-1", Role.ADMIN, "P01")
        create_user(s, dep.units, "bench.c05", "bench-password-1", Role.DUTY_OFFICER, "C05")
    app = create_app(dep.settings, dep)
    for username in ("bench.admin", "bench.c05"):
        with TestClient(app) as client:
            creds = {"username": username, "password": "bench-password-1"}
            r = client.post("/api/login", json=creds)
            r.raise_for_status()

            def get(path: str, client: TestClient = client) -> Callable[[], str]:
                def run() -> str:
                    response = client.get(path)
                    response.raise_for_status()
                    return f"HTTP {response.status_code}, {len(response.content):,} bytes"

                return run

            assert "login" not in client.get("/alerts").url.path, "not logged in"
            timed(f"PAGE /alerts as {username}", get("/alerts"))
            timed(f"PAGE /alerts?page=20 as {username}", get("/alerts?page=20"))
            timed(f"PAGE /alerts?severity=critical as {username}", get("/alerts?severity=critical"))
            timed(f"API /api/alerts as {username}", get("/api/alerts"))
            timed(f"PAGE / (dashboard) as {username}", get("/"), repeat=5)
        time_panels(dep, app, username)


def time_panels(dep: Deployment, app: FastAPI, username: str) -> None:
    """Each dashboard panel's context (its queries) alone, as `username` sees it."""
    from starlette.requests import Request

    from vigil.store.users import actor_for, get_user
    from vigil.web.deps import WebUser

    with dep.store.reader() as s:
        user = WebUser(actor_for(get_user(s, username), dep.units), username, "vi")
    scope = {"type": "http", "app": app, "method": "GET", "path": "/", "headers": []}
    request = Request({**scope, "query_string": b""})
    for panel in app.state.dashboard:

        def run(panel: DashboardPanel = panel) -> str:
            return f"{len(panel.context(request, user))} keys"

        timed(f"  panel {panel.key} as {username}", run, repeat=5)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    url = None
    server = None
    if args.postgres:
        server = start_postgres()
        if server is None:
            return
        url = str(server.create_database("bench_queue"))  # type: ignore[attr-defined]
    data = Path(tempfile.mkdtemp(prefix="vigil-bench-queue-"))
    (data / "vigil.toml").write_text(province_toml(), encoding="utf-8")
    write_secret(data)
    dep = Deployment.open(
        Settings(data=data, database_url=url, demo=True, cookie_secure=False),
        clock=datetime(2026, 2, 15),
    )
    try:
        with dep.store.session() as s:
            sync_units(s, dep.units)
        fill(dep, args.n)
        policy = dep.policy()
        admin = dep.system("bench")
        commune = Actor("c05", Role.DUTY_OFFICER, "C05", frozenset(dep.units.subtree("C05")))
        dept = Actor("d01", Role.DUTY_OFFICER, "D01", frozenset(dep.units.subtree("D01")))

        def page(actor: Actor, **kw: object) -> Callable[[], str]:
            def run() -> str:
                with dep.store.reader() as s:
                    p = alert_queue(s, actor, policy, AlertFilter(**kw))  # type: ignore[arg-type]
                    return f"{len(p.items)} of {p.total_label}"

            return run

        timed("province, page 1", page(admin))
        timed("province, page 20", page(admin, page=20))
        timed("commune officer (2 units), page 1", page(commune))
        timed("department officer (1 unit), page 1", page(dept))
        timed("province, unit filter C07", page(admin, unit="C07"))
        timed("province, capability monitor (60%)", page(admin, capability="monitor"))
        timed("province, capability candidates (0.1%)", page(admin, capability="candidates"))
        timed("province, capability cases (none)", page(admin, capability="cases"))
        timed("province, min severity critical", page(admin, min_severity=Severity.CRITICAL))
        timed("province, status false_positive", page(admin, status="false_positive"))
        timed("commune officer, capability candidates", page(commune, capability="candidates"))
        timed("commune officer, status false_positive", page(commune, status="false_positive"))

        def counts(actor: Actor) -> Callable[[], object]:
            def run() -> object:
                with dep.store.reader() as s:
                    return alert_counts(s, actor, policy)

            return run

        def over_time(actor: Actor) -> Callable[[], object]:
            def run() -> object:
                with dep.store.reader() as s:
                    return sum(n for _, n in alerts_over_time(s, actor, 30, dep.now()))

            return run

        timed("alert_counts province", counts(admin), repeat=5)
        timed("alert_counts commune", counts(commune), repeat=5)
        timed("alerts_over_time 30 days province", over_time(admin), repeat=5)
        timed("alerts_over_time 30 days commune", over_time(commune), repeat=5)
        time_pages(dep)
    finally:
        dep.close()
        shutil.rmtree(data, ignore_errors=True)
        if server is not None:
            server.stop()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
