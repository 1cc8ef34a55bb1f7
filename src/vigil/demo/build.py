"""Builds the demo into a fresh data directory: province, accounts, population, every room's data.

Other rooms add their own synthetic data through the `vigil_demo` hook, called one by one in the
order their `vigil_demo_order` asks (50 when they do not say), and plant ground truth in the same
context. Everything planted ends up in <data>/demo/ground_truth.json.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from time import perf_counter
from typing import Any

import pluggy

from vigil.core.access import Actor
from vigil.core.config import Settings, write_secret
from vigil.core.errors import Location, VigilError
from vigil.demo.officers import DemoAccount, create_demo_officers
from vigil.demo.population import PopulationResult, generate_population
from vigil.demo.province import DEMO_CLOCK, write_clock, write_province
from vigil.deployment import Deployment
from vigil.plugins import DemoContext, GroundTruth, plugin_manager
from vigil.store.audit import audit
from vigil.store.units import sync_units

log = logging.getLogger(__name__)

GROUND_TRUTH_FILE = Path("demo") / "ground_truth.json"
DEFAULT_PERSONS = 20_000
DEFAULT_SEED = 2027
DEFAULT_ORDER = 50
_OWN_PLUGIN = "demo"

#: What a data directory holds that tells it is Vigil's (see `vigil init`).
_MARKERS = ("vigil.toml", "secret.key", "vigil.db")
#: What a data directory never holds: a source tree or a home folder.
_FOREIGN = (".git", "pyproject.toml", "setup.py", ".bashrc", ".ssh")

#: Called as progress(stage, done, total); stages: officers, population, voters, contributors.
Progress = Callable[[str, int, int], None]


class DemoError(VigilError):
    code = "demo"
    status_code = 422


@dataclass
class ContributorRun:
    """One room's `vigil_demo` call."""

    name: str
    order: int
    planted: int = 0
    seconds: float = 0.0
    error: str | None = None


@dataclass
class DemoResult:
    data_dir: Path
    settings: Settings
    seed: int
    persons: int
    clock: datetime
    population: PopulationResult
    accounts: list[DemoAccount]
    truth: list[GroundTruth]
    contributors: list[ContributorRun] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> list[ContributorRun]:
        return [c for c in self.contributors if c.error]


def demo_settings(data_dir: Path, clock: datetime = DEMO_CLOCK) -> Settings:
    """Settings of a demo deployment: demo mode, plain-HTTP cookies, the fixed clock.

    The store is always the SQLite file of the fresh directory, even if VIGIL_DATABASE_URL
    points elsewhere: a demo must never write its accounts into a real database.
    """
    return Settings(data=data_dir, database_url=None, demo=True, cookie_secure=False, clock=clock)


def prepare_directory(data_dir: Path, force: bool) -> None:
    """Make `data_dir` an empty directory; with `force`, empty a Vigil data directory first."""
    if data_dir.exists() and not data_dir.is_dir():
        raise DemoError("not a directory", location=Location(str(data_dir)))
    if not data_dir.exists() or not any(data_dir.iterdir()):
        data_dir.mkdir(parents=True, exist_ok=True)
        return
    if not force:
        raise DemoError(
            "the directory is not empty; pass --force to rebuild it",
            location=Location(str(data_dir)),
        )
    resolved = data_dir.resolve()
    if resolved in (Path(resolved.anchor), Path.home().resolve(), Path.cwd().resolve()):
        raise DemoError("refusing to empty this directory", location=Location(str(data_dir)))
    if not any((data_dir / m).exists() for m in _MARKERS) or any(
        (data_dir / m).exists() for m in _FOREIGN
    ):
        raise DemoError(
            "does not look like a Vigil data directory (no vigil.toml, secret.key or vigil.db); "
            "refusing to delete it",
            location=Location(str(data_dir)),
        )
    for child in sorted(data_dir.iterdir()):
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def demo_order(plugin: object) -> int:
    order = getattr(plugin, "vigil_demo_order", None)
    return int(order()) if callable(order) else DEFAULT_ORDER


def run_contributors(
    ctx: DemoContext, progress: Progress | None = None, manager: pluggy.PluginManager | None = None
) -> list[ContributorRun]:
    """Every other room's `vigil_demo`, lowest order first; one failure does not stop the rest."""
    hook = (manager or plugin_manager()).hook.vigil_demo
    impls = [i for i in hook.get_hookimpls() if i.plugin_name != _OWN_PLUGIN]
    impls.sort(key=lambda i: (demo_order(i.plugin), i.plugin_name))
    runs = []
    for done, impl in enumerate(impls, start=1):
        run = ContributorRun(impl.plugin_name, demo_order(impl.plugin))
        before = len(ctx.truth)
        started = perf_counter()
        try:
            impl.function(ctx=ctx)
        except Exception as e:  # a room's bug must not cost the other rooms their demo data
            log.exception("demo contributor %s failed", run.name)
            run.error = f"{type(e).__name__}: {e}"
        run.seconds = perf_counter() - started
        run.planted = len(ctx.truth) - before
        runs.append(run)
        if progress:
            progress("contributors", done, len(impls))
    return runs


def write_ground_truth(data_dir: Path, ctx: DemoContext, clock: datetime) -> Path:
    path = data_dir / GROUND_TRUTH_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    body: dict[str, Any] = {
        "province": ctx.deployment.units.root.code,
        "seed": ctx.seed,
        "persons": ctx.persons,
        "clock": clock.isoformat(),
        "planted": [asdict(t) for t in ctx.truth],
    }
    path.write_text(json.dumps(body, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def read_ground_truth(data_dir: Path) -> list[GroundTruth]:
    path = data_dir / GROUND_TRUTH_FILE
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        return [GroundTruth(**item) for item in body["planted"]]
    except FileNotFoundError as e:
        raise DemoError(
            "no ground truth: this directory was not built by 'vigil demo'",
            location=Location(str(path)),
        ) from e
    except (ValueError, KeyError, TypeError) as e:
        raise DemoError(f"unreadable ground truth: {e}", location=Location(str(path))) from e


def _build_voter_lists(deployment: Deployment, actor: Actor, progress: Progress | None) -> None:
    """Each commune's first voter list, built from the population just written (as a data
    officer would before posting the lists), so the voter-list pages have one to show."""
    from vigil.registry.voters.build import build_voter_lists, communes

    targets = communes(deployment)
    done = [0]

    def step(_commune: str) -> None:
        if progress:
            progress("voters", done[0], len(targets))
        done[0] += 1

    with deployment.store.session() as session:
        build_voter_lists(session, deployment, actor, targets, progress=step)
    if progress:
        progress("voters", len(targets), len(targets))


def build_demo(
    data_dir: Path,
    persons: int = DEFAULT_PERSONS,
    seed: int = DEFAULT_SEED,
    force: bool = False,
    progress: Progress | None = None,
) -> DemoResult:
    """Build the demo province into `data_dir` and return what was built."""
    started = perf_counter()
    prepare_directory(data_dir, force)
    write_province(data_dir)
    write_secret(data_dir)
    write_clock(data_dir, DEMO_CLOCK)
    settings = demo_settings(data_dir)
    with Deployment.open(settings) as deployment:
        actor = deployment.system("demo")
        with deployment.store.session() as session:
            sync_units(session, deployment.units)
            audit(
                session,
                actor,
                "demo.build",
                f"demo:{deployment.units.root.code}",
                {"seed": seed, "persons": persons},
            )
        with deployment.store.session() as session:
            accounts = create_demo_officers(
                session,
                actor,
                deployment.units,
                demo_mode=settings.demo,
                progress=(lambda done, total: progress("officers", done, total))
                if progress
                else None,
            )
        ctx = DemoContext(deployment=deployment, seed=seed, persons=persons)
        population = generate_population(
            ctx, (lambda done, total: progress("population", done, total)) if progress else None
        )
        with deployment.store.session() as session:
            audit(
                session,
                actor,
                "demo.population",
                "lake:population",
                {
                    "persons": population.persons,
                    "households": population.households,
                    "deaths": population.deaths,
                    "planted": dict(population.planted),
                },
            )
        _build_voter_lists(deployment, actor, progress)
        contributors = run_contributors(ctx, progress)
        write_ground_truth(data_dir, ctx, DEMO_CLOCK)
    return DemoResult(
        data_dir=data_dir,
        settings=settings,
        seed=seed,
        persons=persons,
        clock=DEMO_CLOCK,
        population=population,
        accounts=accounts,
        truth=list(ctx.truth),
        contributors=contributors,
        seconds=perf_counter() - started,
    )
