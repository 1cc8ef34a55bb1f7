"""`vigil monitor`: ingest logs (the Sigma rules run over them), search events, watch sensors."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from vigil.clikit import (
    DEFAULT_DATA,
    EXIT_ERROR,
    EXIT_FOUND,
    DataDir,
    console,
    err_console,
    handle_errors,
    open_deployment,
    print_json_lines,
)
from vigil.core.clock import parse_optional_time
from vigil.core.errors import IngestError, VigilError
from vigil.core.i18n import _
from vigil.deployment import Deployment
from vigil.store.db import store_error

if TYPE_CHECKING:
    from vigil.monitor.detect.sigma.scan import RuleSetScan
    from vigil.monitor.ingest.pipeline import IngestResult

monitor_app = typer.Typer(
    help="Security monitoring: logs into the lake, Sigma rules over them.", no_args_is_help=True
)


def mount(app: typer.Typer) -> None:
    app.add_typer(monitor_app, name="monitor")


#: What to do after an ingest that failed: nothing it put in the lake is lost.
AGAIN = "run it again: what is in the lake stays, and its batches not scanned are scanned then"


def _t(deployment: Deployment, message: str) -> str:
    return _(message, deployment.settings.lang)


def _ingest_once(
    dep: Deployment,
    paths: list[Path],
    unit: str | None,
    host: str | None,
    source: str | None,
    workers: int,
    run_rules: bool,
    collected: bool = False,
) -> int:
    from vigil.monitor.detect.sigma.scan import ingest_and_scan
    from vigil.monitor.ingest.pipeline import ingest_files

    actor = dep.system("cli")
    options: dict[str, Any] = {
        "unit": unit,
        "host": host,
        "source": source,
        "workers": workers,
        "collected": collected,
    }
    try:
        if run_rules:
            result, reports = ingest_and_scan(dep, actor, paths, **options)
        else:
            result, reports = ingest_files(dep, actor, paths, **options), []
    except SQLAlchemyError as e:
        raise store_error(e, "ingest", AGAIN) from e
    except OSError as e:  # a full disk, a file gone while read
        raise IngestError(f"the ingest stopped: {e}; {AGAIN}") from e
    _report_ingest(dep, result, reports)
    return len(result.batches)


def _pause(seconds: float) -> None:
    """The wait between two polls of a watched folder (one name, so a test can stand in for it
    without touching every thread's `time.sleep`)."""
    time.sleep(seconds)


def _watch(dep: Deployment, polls: int, interval: float, poll: Callable[[], object]) -> bool:
    """Poll until `polls` are done (0: for ever); a poll that fails is said on stderr and the
    next one tries again. Returns whether the last poll failed."""
    done = 0
    failed = False
    while polls == 0 or done < polls:
        if done:
            _pause(interval)
        try:
            poll()
            failed = False
        except VigilError as e:
            failed = True
            err_console.print(f"[red]error:[/red] {escape(str(e))}", highlight=False)
            err_console.print(_t(dep, "still watching: the next poll tries again"))
        done += 1
    return failed


def _report_ingest(dep: Deployment, result: IngestResult, reports: list[RuleSetScan]) -> None:
    """Print what an ingest did and what the rule sets found in it."""
    from vigil.monitor.ingest.pipeline import ALREADY, INGESTED

    table = Table(
        _t(dep, "file"),
        _t(dep, "status"),
        _t(dep, "source"),
        _t(dep, "events"),
        _t(dep, "quarantined"),
    )
    # Many files: only those that need a look (not read, nothing in them), not every file
    # that went in or was in already (a watched folder is listed again at every poll).
    shown = [
        f for f in result.files if f.status not in (INGESTED, ALREADY) or len(result.files) <= 20
    ]
    for f in shown:
        table.add_row(
            escape(f.path), _t(dep, f.status), f.source, str(f.events), str(f.quarantined)
        )
    if shown:
        console.print(table)
    console.print(
        _t(dep, "{files} files, {events} new events, {quarantined} quarantined").format(
            files=len(result.files), events=result.events, quarantined=result.quarantined
        )
    )
    unknown = [p.host for p in result.placed if p.source == "unknown"]
    if unknown:
        console.print(
            _t(dep, "hosts with no unit (placed at the province): {hosts}").format(
                hosts=", ".join(unknown)
            )
        )
    # Batches a failed run left unscanned are scanned by the next, files new or not.
    for r in reports:
        if r.batches:
            console.print(
                _t(
                    dep,
                    "rule set {name}: {batches} batches, {candidates} of {rules} rules run, "
                    "{hits} matches, {new} new findings, {updated} updated ({seconds:.2f}s)",
                ).format(
                    name=r.ruleset,
                    batches=r.batches,
                    candidates=r.stats.candidates,
                    rules=r.stats.rules,
                    hits=r.stats.hits,
                    new=r.recorded.created,
                    updated=r.recorded.updated,
                    seconds=r.seconds,
                )
            )
            for rule_id, error in sorted(r.stats.errors.items()):
                console.print(f"  [red]{escape(rule_id)}[/red]: {escape(error)}")


@monitor_app.command("ingest")
@handle_errors
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Log files or folders.")],
    data: DataDir = DEFAULT_DATA,
    unit: Annotated[
        str | None, typer.Option(help="Unit of the hosts these logs come from.")
    ] = None,
    host: Annotated[str | None, typer.Option(help="Host name for formats that omit it.")] = None,
    source: Annotated[
        str | None, typer.Option(help="Force a format: evtx, jsonl, access, syslog.")
    ] = None,
    workers: Annotated[int, typer.Option(help="Parser processes.")] = 2,
    collected: Annotated[
        bool,
        typer.Option(
            help="The logs were collected off the hosts (a forensic copy, replayed samples), "
            "not sent live: hosts seen only this way never count as silent sensors."
        ),
    ] = False,
    rules: Annotated[
        bool, typer.Option("--rules/--no-rules", help="Run the rule sets after.")
    ] = True,
    watch: Annotated[bool, typer.Option(help="Keep polling the folders for new files.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between polls with --watch.")] = 10.0,
    polls: Annotated[
        int, typer.Option(hidden=True, help="Stop --watch after this many polls.")
    ] = 0,
) -> None:
    """Ingest logs (EVTX, syslog, JSON lines, access logs), then run every rule set over them.

    What a stopped or failed ingest wrote stays in the lake; running it again goes on from
    there. With --watch, a poll that fails is said and the next poll tries again.
    """
    with open_deployment(data) as dep:

        def once() -> int:
            return _ingest_once(dep, paths, unit, host, source, workers, rules, collected)

        if not watch:
            once()
        elif _watch(dep, polls, interval, once):
            raise typer.Exit(EXIT_ERROR)


@monitor_app.command("events")
@handle_errors
def events(
    data: DataDir = DEFAULT_DATA,
    host: Annotated[str | None, typer.Option(help="Only this host.")] = None,
    since: Annotated[
        str | None,
        typer.Option(help="From this time: the province's local time unless it has an offset."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(help="Before this time: the province's local time unless it has an offset."),
    ] = None,
    field: Annotated[
        list[str] | None, typer.Option(help="name=value, or name~value for contains.")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many events.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Search events in the lake, newest first."""
    from vigil.monitor.review.search import FieldFilter, search_events
    from vigil.monitor.review.views import event_fields

    with open_deployment(data) as dep:
        rows = search_events(
            dep,
            dep.system("cli"),
            host=host,
            since=parse_optional_time(since, "--since"),
            until=parse_optional_time(until, "--until"),
            filters=[FieldFilter.parse(f) for f in field or []],
            limit=limit,
        )
        if as_json:
            print_json_lines(rows)
            return
        table = Table("ts", "host", "channel", _t(dep, "event"), _t(dep, "fields"))
        for row in rows:
            extra = event_fields(row)
            text = "; ".join(f"{k}={str(v)[:80]}" for k, v in list(extra.items())[:4])
            table.add_row(
                str(row["ts"])[:19],
                row.get("host", ""),
                row.get("channel", ""),
                str(row.get("event_code", "")),
                escape(text),
            )
        console.print(table)
        console.print(_t(dep, "{n} events").format(n=len(rows)))


@monitor_app.command("sensors")
@handle_errors
def sensors(
    data: DataDir = DEFAULT_DATA,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Last event time per host and log source, and which sensors fell silent.

    Hosts whose logs were collected off them say so instead: they cannot fall silent.
    """
    from vigil.monitor.review.views import sensor_health

    with open_deployment(data) as dep:
        _limit, found = sensor_health(dep, dep.system("cli"))
        if as_json:
            print_json_lines(
                [
                    {
                        "host": h.sensor.host,
                        "source": h.sensor.source,
                        "unit": h.sensor.unit,
                        "events": h.sensor.events,
                        "first": h.sensor.first.isoformat(),
                        "last": h.sensor.last.isoformat(),
                        "collected": h.sensor.collected,
                    }
                    for h in found
                ]
            )
            return
        table = Table(
            "host",
            _t(dep, "source"),
            _t(dep, "unit"),
            _t(dep, "events"),
            _t(dep, "first event"),
            _t(dep, "last event"),
            _t(dep, "state"),
        )
        for h in found:
            s = h.sensor
            if s.collected:
                state = _t(dep, "collected")
            elif h.silent:
                quiet = _t(dep, "silent for %(minutes)s minutes") % {"minutes": h.quiet_minutes}
                state = f"[red]{quiet}[/red]"
            else:
                state = _t(dep, "reporting")
            table.add_row(
                s.host, s.source, s.unit, str(s.events), str(s.first)[:19], str(s.last)[:19], state
            )
        console.print(table)


@monitor_app.command("coverage")
@handle_errors
def coverage(
    data: DataDir = DEFAULT_DATA,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Converted Sigma rules by ATT&CK tactic, and how many of them have fired."""
    from vigil.monitor.review.search import coverage as tactic_coverage

    with open_deployment(data) as dep:
        with dep.store.reader() as session:
            rows = tactic_coverage(session, dep.system("cli"))
        if as_json:
            print_json_lines([vars(r) for r in rows])
            return
        table = Table(
            _t(dep, "tactic"),
            _t(dep, "rules"),
            _t(dep, "enabled"),
            _t(dep, "techniques"),
            _t(dep, "fired"),
        )
        for r in rows:
            table.add_row(r.tactic, str(r.rules), str(r.enabled), str(r.techniques), str(r.fired))
        console.print(table)


hosts_app = typer.Typer()
monitor_app.add_typer(hosts_app, name="hosts")


@hosts_app.callback(invoke_without_command=True)
@handle_errors
def hosts(
    ctx: typer.Context,
    data: DataDir = DEFAULT_DATA,
    unknown: Annotated[bool, typer.Option(help="Only hosts nobody placed in a unit.")] = False,
) -> None:
    """Hosts, their units, live or collected logs; --unknown: only hosts nobody placed in a unit.

    Hosts nobody placed sit at the province until placed (`vigil monitor place`).
    """
    if ctx.invoked_subcommand is not None:
        return
    from vigil.monitor.ingest.hosts import list_hosts

    with open_deployment(data) as dep:
        with dep.store.reader() as session:
            rows = list_hosts(session, dep.system("cli"), only_unknown=unknown)
        table = Table("host", _t(dep, "unit"), _t(dep, "known from"), _t(dep, "logs"))
        for h in rows:
            table.add_row(h.host, h.unit, _t(dep, h.source), _t(dep, h.feed))
        console.print(table)
        if unknown and rows:
            raise typer.Exit(EXIT_FOUND)


@hosts_app.command("mark")
@handle_errors
def hosts_mark(
    host: Annotated[str, typer.Argument(help="Host name as its logs give it.")],
    collected: Annotated[
        bool,
        typer.Option(
            "--collected/--live",
            help="Its logs were collected off it (it cannot fall silent), or it sends them live.",
        ),
    ],
    data: DataDir = DEFAULT_DATA,
) -> None:
    """Say whether a host's logs were collected off it or come from a live sensor."""
    from vigil.monitor.ingest.hosts import mark_host

    with open_deployment(data) as dep:
        with dep.store.session() as session:
            mark_host(session, dep.system("cli"), host, collected)
        message = "{host} is marked collected" if collected else "{host} is marked live"
        console.print(_t(dep, message).format(host=host))


@monitor_app.command("place")
@handle_errors
def place(
    host: Annotated[str, typer.Argument(help="Host name as its logs give it.")],
    unit: Annotated[str, typer.Argument(help="Code of its unit.")],
    data: DataDir = DEFAULT_DATA,
) -> None:
    """Put a host in a unit (its future findings go to that unit)."""
    from vigil.monitor.ingest.hosts import set_host_unit

    with open_deployment(data) as dep:
        with dep.store.session() as session:
            set_host_unit(session, dep.system("cli"), dep.units, host, unit)
        console.print(_t(dep, "{host} is now in {unit}").format(host=host, unit=unit))


@monitor_app.command("detections")
@handle_errors
def detections(
    data: DataDir = DEFAULT_DATA,
    markdown: Annotated[bool, typer.Option(help="A Markdown table (for docs).")] = False,
) -> None:
    """Matched events per Sigma rule, from the recorded findings."""
    from vigil.monitor.review.report import detection_counts, detections_markdown

    with open_deployment(data) as dep:
        with dep.store.reader() as session:
            rows = detection_counts(session, dep.system("cli"))
        if markdown:
            typer.echo(detections_markdown(rows))
            return
        table = Table(
            _t(dep, "rule"), _t(dep, "title"), _t(dep, "level"), _t(dep, "hosts"), _t(dep, "events")
        )
        for r in rows:
            table.add_row(r.rule, escape(r.title[:70]), r.level, str(r.hosts), str(r.events))
        console.print(table)
