"""The web app under load: N logged-in officers at once for S seconds on the demo province.

Each client logs in through the form (a browser's session cookie and CSRF token), then loops
with no think time over a mix of pages (dashboard, alert queue, one alert, a case, the event
search) and writes (acknowledge an alert, add a note to a case). Server and clients share the
machine: `vigil serve` (one uvicorn process, as the demo runs it) in a subprocess, the clients in
this one. Prints, per request kind and overall, the count, p50/p95/p99 in milliseconds and the
errors (any answer other than 200 for a page and 303 for a write, or a transport error).

Run: .venv/bin/python bench/bench_web_load.py [--clients 8 32] [--seconds 60] [--data DIR]
     [--workers N]
(without --data a demo is built first with `vigil demo DIR --no-serve`, about a minute)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx
from sqlalchemy import select

from _setup import ROOT  # noqa: F401 - puts the repository on sys.path
from vigil.cases.models import Case
from vigil.clikit import open_deployment
from vigil.demo.officers import DEMO_PASSWORD
from vigil.store.models import FindingRow

VIGIL = Path(sys.executable).with_name("vigil")
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
#: Root-level duty officers and analysts: every one may triage and manage cases.
ACCOUNTS = ("duty1", "duty2", "duty3", "duty4", "admin")
#: Weights of the mix: mostly reading, about one request in six a write.
MIX = {
    "dashboard": 18,
    "alerts": 24,
    "alert": 12,
    "case": 14,
    "events": 14,
    "ack": 9,
    "note": 9,
}


@dataclass
class Pools:
    """What the clients act on, read from the store before the run."""

    new_findings: list[int]
    findings: list[int]
    cases: list[int]


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_demo(target: Path) -> None:
    print(f"building the demo in {target} ...", flush=True)
    started = time.perf_counter()
    subprocess.run(
        [str(VIGIL), "demo", str(target), "--force", "--no-serve"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    print(f"demo built in {time.perf_counter() - started:.1f} s", flush=True)


def read_pools(data: Path) -> Pools:
    deployment = open_deployment(data)
    with deployment.store.reader() as session:
        new = list(session.scalars(select(FindingRow.id).where(FindingRow.status == "new")))
        every = list(session.scalars(select(FindingRow.id)))
        cases = list(session.scalars(select(Case.id).where(Case.status != "closed")))
    random.Random(7).shuffle(new)
    return Pools(new, every, cases or [])


def start_server(data: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "VIGIL_DEMO": "true", "VIGIL_COOKIE_SECURE": "false"}
    server = subprocess.Popen(
        [str(VIGIL), "serve", "--data", str(data), "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    server.kill()
    raise SystemExit("the server did not answer /login within 60 s")


async def login(client: httpx.AsyncClient, username: str) -> str:
    page = await client.get("/login")
    token = TOKEN.search(page.text)
    assert token, "no CSRF token on /login"
    form = {"username": username, "password": DEMO_PASSWORD, "csrf_token": token.group(1)}
    done = await client.post("/login", data=form)
    if done.status_code != 303:
        raise SystemExit(f"login of {username} answered {done.status_code}: {done.text[:200]}")
    home = TOKEN.search((await client.get("/")).text)
    assert home, "no CSRF token on the dashboard"
    return home.group(1)


def _request(
    kind: str, client: httpx.AsyncClient, token: str, pools: Pools, rng: random.Random
) -> Callable[[], Awaitable[httpx.Response]]:
    """The request of one kind, with its target drawn now."""
    if kind == "ack" and pools.new_findings:
        target = pools.new_findings.pop()
        form = {"csrf_token": token, "note": "load test", "next": "/alerts"}
        return lambda: client.post(f"/findings/{target}/ack", data=form)
    if kind in ("ack", "note") and pools.cases:
        case = rng.choice(pools.cases)
        form = {"csrf_token": token, "text": f"load test note {rng.randrange(10**6)}"}
        return lambda: client.post(f"/cases/{case}/notes", data=form)
    paths = {
        "dashboard": lambda: "/",
        "alerts": lambda: "/alerts" if rng.random() < 0.7 else "/alerts?severity=high",
        "alert": lambda: f"/findings/{rng.choice(pools.findings)}",
        "case": lambda: f"/cases/{rng.choice(pools.cases)}" if pools.cases else "/cases",
        "events": lambda: f"/monitor/events?page={rng.randint(1, 3)}",
    }
    path = paths.get(kind, paths["dashboard"])()
    return lambda: client.get(path)


async def client_loop(
    base: str, username: str, pools: Pools, tally: Tally, stop_at: float, seed: int
) -> None:
    rng = random.Random(seed)
    kinds, weights = list(MIX), list(MIX.values())
    async with httpx.AsyncClient(base_url=base, timeout=60, follow_redirects=False) as client:
        token = await login(client, username)
        while time.monotonic() < stop_at:
            kind = rng.choices(kinds, weights)[0]
            send = _request(kind, client, token, pools, rng)
            started = time.perf_counter()
            try:
                response = await send()
            except httpx.TransportError as e:
                tally.errors[kind].append(f"{type(e).__name__}: {e}")
                continue
            tally.latencies[kind].append((time.perf_counter() - started) * 1000)
            expected = 303 if kind in ("ack", "note") else 200
            if response.status_code != expected:
                tally.errors[kind].append(f"{response.status_code} {response.url.path}")


def _pct(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def report(clients: int, seconds: float, tally: Tally) -> dict[str, float]:
    print(f"\n{clients} clients, {seconds:.0f} s")
    print(f"{'kind':<10} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    every: list[float] = []
    for kind in MIX:
        values = tally.latencies.get(kind, [])
        every += values
        errors = len(tally.errors.get(kind, []))
        print(
            f"{kind:<10} {len(values):>7} {_pct(values, 50):>8.0f} {_pct(values, 95):>8.0f} "
            f"{_pct(values, 99):>8.0f} {errors:>7}"
        )
    errors = sum(len(v) for v in tally.errors.values())
    figures = {
        "requests": len(every),
        "rps": len(every) / seconds,
        "p50": _pct(every, 50),
        "p95": _pct(every, 95),
        "p99": _pct(every, 99),
        "errors": errors,
    }
    print(
        f"{'all':<10} {len(every):>7} {figures['p50']:>8.0f} {figures['p95']:>8.0f} "
        f"{figures['p99']:>8.0f} {errors:>7}   {figures['rps']:.1f} requests/s"
    )
    for kind, messages in tally.errors.items():
        for message in sorted(set(messages))[:5]:
            print(f"  error {kind}: {message}")
    return figures


async def run_round(base: str, clients: int, seconds: float, pools: Pools) -> Tally:
    tally = Tally()
    stop_at = time.monotonic() + seconds
    await asyncio.gather(
        *(
            client_loop(base, ACCOUNTS[i % len(ACCOUNTS)], pools, tally, stop_at, seed=i)
            for i in range(clients)
        )
    )
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--data", type=Path, help="an existing demo folder (else one is built)")
    parser.add_argument("--workers", type=int, default=1, help="server processes (vigil serve)")
    args = parser.parse_args()
    own = args.data is None
    data = args.data or Path(tempfile.mkdtemp(prefix="vigil-load-")) / "demo"
    if own:
        build_demo(data)
    pools = read_pools(data)
    print(
        f"{len(pools.findings)} findings ({len(pools.new_findings)} new), "
        f"{len(pools.cases)} open cases; {os.cpu_count()} cores"
    )
    port = _free_port()
    server = start_server(data, port, args.workers)
    print(f"server: vigil serve --workers {args.workers}")
    try:
        for clients in args.clients:
            tally = asyncio.run(run_round(f"http://127.0.0.1:{port}", clients, args.seconds, pools))
            report(clients, args.seconds, tally)
    finally:
        server.terminate()
        server.wait(timeout=30)
        if own:
            shutil.rmtree(data.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
