"""`vigil demo DIR`: build the demo province, run the detectors, print what was found, serve it."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from vigil.clikit import EXIT_ERROR, console, handle_errors
from vigil.core.clock import format_local, to_utc
from vigil.core.i18n import _
from vigil.core.severity import Severity
from vigil.demo.build import DEFAULT_PERSONS, DEFAULT_SEED, DemoResult, build_demo
from vigil.demo.officers import DEMO_PASSWORD
from vigil.demo.population import MIN_PERSONS
from vigil.demo.summary import DemoSummary, summarise
from vigil.deployment import Deployment
from vigil.detection import DetectorRun, run_detectors
from vigil.plugins import plugin_manager

_STAGES = {
    "officers": "Creating officer accounts",
    "population": "Generating the population",
    "voters": "Building the voter lists",
    "contributors": "Adding each capability's data",
    "detectors": "Running the detectors",
}


def both(message: str) -> str:
    """'Vietnamese / English' label for the summary (the demo is shown to both audiences)."""
    vi = _(message, "vi")
    return message if vi == message else f"{vi} / {message}"


@contextmanager
def _bars() -> Iterator[Progress]:
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        yield progress


class _StageBars:
    """One progress bar per stage, created when the stage first reports."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(both(_STAGES.get(stage, stage)), total=total)
        self.progress.update(self.tasks[stage], completed=done, total=total)


@handle_errors
def demo(
    directory: Annotated[
        Path, typer.Argument(help="Data directory to build the demo in (empty, or --force).")
    ],
    persons: Annotated[
        int, typer.Option(min=MIN_PERSONS, help="Number of people in the province.")
    ] = DEFAULT_PERSONS,
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed builds the same demo.")
    ] = DEFAULT_SEED,
    force: Annotated[
        bool, typer.Option("--force", help="Empty DIR first if it is a Vigil data directory.")
    ] = False,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the dashboard when built.")
    ] = False,
    run: Annotated[
        bool, typer.Option("--run/--no-run", help="Run the detectors when built.")
    ] = True,
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000,
) -> None:
    """Build a deterministic synthetic province with planted problems into DIR."""
    with _bars() as progress:
        result = build_demo(directory, persons, seed, force, _StageBars(progress))
    runs: list[DetectorRun] = []
    summary: DemoSummary | None = None
    if run:
        runs, summary = _detect(result)
    _print_summary(result, runs, summary)
    failed = bool(result.failed) or any(r.error for r in runs)
    if serve:
        _serve(result, host, port)
    elif failed:
        raise typer.Exit(EXIT_ERROR)


def _detect(result: DemoResult) -> tuple[list[DetectorRun], DemoSummary]:
    with Deployment.open(result.settings) as deployment:
        total = len(plugin_manager().hook.vigil_detect.get_hookimpls())
        with _bars() as progress:
            task = progress.add_task(both(_STAGES["detectors"]), total=total, visible=total > 0)
            started: list[str] = []

            def step(capability: str) -> None:
                # Told when a capability starts: the ones before it are done.
                label = f"{both(_STAGES['detectors'])}: {capability}"
                progress.update(task, description=label, completed=len(started))
                started.append(capability)

            runs = run_detectors(deployment, None, step)
            progress.update(task, description=both(_STAGES["detectors"]), completed=total)
        with deployment.store.reader() as session:
            summary = summarise(
                session, deployment.system("demo"), deployment.policy(), result.truth
            )
    return runs, summary


def _print_summary(
    result: DemoResult, runs: list[DetectorRun], summary: DemoSummary | None
) -> None:
    pop = result.population
    console.print()
    console.print(
        f"[bold]{both('Demo built')}[/bold]: {result.data_dir}  "
        f"({both('seed')} {result.seed}, {result.seconds:.1f} s)"
    )
    console.print(
        f"{both('Persons')}: {pop.persons:,}  {both('Households')}: {pop.households:,}  "
        f"{both('Death records')}: {pop.deaths:,}"
    )
    console.print(f"{both('Demo clock')}: {format_local(to_utc(result.clock))} (UTC+7)")
    for c in result.failed:
        console.print(
            f"[red]{both('Capability failed to add its demo data')}: {c.name}: {c.error}[/red]"
        )
    for r in runs:
        if r.error:
            console.print(f"[red]{both('Detector failed')}: {r.capability}: {r.error}[/red]")
    if summary is not None:
        _print_findings(summary)
    _print_truth(result, summary)
    _print_accounts(result)


def _print_findings(summary: DemoSummary) -> None:
    severities = sorted(Severity, reverse=True)
    table = Table(title=both("Findings by capability and severity"))
    table.add_column(both("Capability"))
    for s in severities:
        table.add_column(f"{_(s.label, 'vi')} / {s.label}", justify="right")
    table.add_column(both("Total"), justify="right")
    for capability, counts in summary.findings.items():
        table.add_row(
            capability, *(str(counts.get(s, 0)) for s in severities), str(sum(counts.values()))
        )
    if not summary.findings:
        table.add_row("-", *("0" for _s in severities), "0")
    console.print(table)
    console.print(
        f"{both('Phase')}: {_(summary.phase.value, 'vi')} / {summary.phase.value}  "
        f"{both('Alert threshold')}: {_(summary.threshold.label, 'vi')} / "
        f"{summary.threshold.label}  "
        f"{both('Alerts now')}: [bold]{summary.alerts}[/bold]"
    )
    if summary.top_alerts:
        alerts = Table(title=both("Most urgent alerts"))
        for name in ("Severity", "Capability", "Rule", "Unit", "Subject"):
            alerts.add_column(both(name))
        for a in summary.top_alerts:
            alerts.add_row(a.severity.label, a.capability, a.rule, a.unit, a.subject[:40])
        console.print(alerts)


def _print_truth(result: DemoResult, summary: DemoSummary | None) -> None:
    table = Table(title=both("Planted problems found by the detectors"))
    table.add_column(both("Capability"))
    table.add_column(both("Rule"), no_wrap=True)
    for name in ("Planted", "Found", "Missed", "Unplanted findings"):
        table.add_column(both(name), justify="right")
    if summary is None:
        from vigil.demo.summary import score_truth

        scores = score_truth(result.truth, [])
    else:
        scores = summary.truth
    for score in scores:
        for rule in sorted({*score.by_rule, *score.unplanted_by_rule}):
            planted, found = score.by_rule[rule], score.found_by_rule[rule]
            found_text = str(found) if summary is not None else "-"
            missed_text = str(planted - found) if summary is not None else "-"
            extra = str(score.unplanted_by_rule[rule]) if summary is not None else "-"
            table.add_row(score.capability, rule, str(planted), found_text, missed_text, extra)
    console.print(table)


def _print_accounts(result: DemoResult) -> None:
    table = Table(title=f"{both('Demo accounts')} ({both('password')}: {DEMO_PASSWORD})")
    for name in ("Username", "Role", "Unit", "Name"):
        table.add_column(both(name))
    for a in result.accounts:
        table.add_row(a.username, str(a.role), a.unit, a.full_name)
    console.print(table)
    console.print(
        f"{both('To serve this demo later')}: VIGIL_DEMO=true VIGIL_COOKIE_SECURE=false "
        f"vigil serve --data {result.data_dir}"
    )


def _serve(result: DemoResult, host: str, port: int) -> None:
    import uvicorn

    web = importlib.import_module("vigil.web.app")  # the web room is optional for building
    console.print(f"[bold]Vigil[/bold] http://{host}:{port}  ({both('Ctrl-C to stop')})")
    uvicorn.run(
        web.create_app(result.settings),
        host=host,
        port=port,
        log_level="warning",
        proxy_headers=False,  # the app trusts forwarded headers only from trusted_proxies
    )
