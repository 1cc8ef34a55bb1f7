"""`vigil registry voters`: build the voter lists, show them with their changes, export them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from vigil.clikit import DEFAULT_DATA, DataDir, console, handle_errors, open_deployment
from vigil.core.errors import ValidationError

voters_app = typer.Typer(
    help="Voter lists per commune and polling area: build, show, diff, export.",
    no_args_is_help=True,
)
AsUser = Annotated[str | None, typer.Option("--as", help="As this officer (their units).")]
CommuneOpt = Annotated[str, typer.Option("--commune", help="The commune's unit code.")]
Version = Annotated[int | None, typer.Option("--version", help="This version (default: latest).")]


@voters_app.command("build")
@handle_errors
def build(
    data: DataDir = DEFAULT_DATA,
    commune: Annotated[
        list[str] | None, typer.Option("--commune", help="The commune (repeat; default: all).")
    ] = None,
    areas: Annotated[
        Path | None,
        typer.Option("--areas", help="CSV village,polling_area (default: one area per village)."),
    ] = None,
    as_user: AsUser = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per list.")] = False,
) -> None:
    """Build each commune's next voter list and diff it against the one before (audited)."""
    from vigil.registry.voters.build import build_voter_lists, communes
    from vigil.registry.voters.eligibility import load_areas
    from vigil.store.users import officer_actor

    mapping = load_areas(areas)
    with open_deployment(data) as dep:
        targets = commune or communes(dep)
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), console=console, disable=as_json,
        ) as bar:  # fmt: skip
            task = bar.add_task("voter lists", total=len(targets))

            def step(code: str) -> None:
                bar.update(task, description=f"voter list {code}", advance=1)

            with dep.store.session() as session:
                actor = officer_actor(session, dep.units, as_user) if as_user else dep.system("cli")
                built = build_voter_lists(session, dep, actor, targets, mapping, step)
    if as_json:
        for b in built:
            typer.echo(json.dumps(b.as_dict(), ensure_ascii=False))
        return
    table = Table("commune", "version", "voting day", "voters", "added", "removed", "left off")
    for b in built:
        left = ", ".join(f"{k} {v:,}" for k, v in sorted(b.left_off.items()))
        table.add_row(
            b.commune, str(b.version), b.voting_day.isoformat(), f"{b.voters:,}",
            f"{b.added:,}", f"{b.removed:,}", left,
        )  # fmt: skip
    console.print(table)


@voters_app.command("show")
@handle_errors
def show(
    commune: CommuneOpt,
    data: DataDir = DEFAULT_DATA,
    version: Version = None,
    as_user: AsUser = None,
    limit: Annotated[int, typer.Option(help="Rows shown at most.")] = 50,
    area: Annotated[str | None, typer.Option("--area", help="Only this polling area.")] = None,
) -> None:
    """A list's counts by polling area and its first rows, personal data masked."""
    from vigil.registry.voters.export import area_counts, find_list, read_list
    from vigil.store.users import officer_actor

    with open_deployment(data) as dep, dep.store.reader() as session:
        actor = officer_actor(session, dep.units, as_user) if as_user else dep.system("cli")
        vl = find_list(session, actor, commune, version)
        counts = area_counts(session, vl)
        view = read_list(session, actor, vl, limit=limit, area=area)
    console.print(
        f"{vl.commune} v{vl.version}: {vl.voters:,} voters for {vl.voting_day.isoformat()} "
        f"(born by {vl.born_by.isoformat()}), built by {vl.built_by} "
        f"at {vl.built_at:%Y-%m-%d %H:%M} UTC; +{vl.added:,} -{vl.removed:,}",
        markup=False,
    )
    areas = Table("polling area", "voters")
    for area, n in counts:
        areas.add_row(area, f"{n:,}")
    console.print(areas)
    rows = Table("area", "person", "name", "born", "sex", "citizen ID")
    for r in view.rows:
        rows.add_row(
            r["polling_area"], r["person_id"], r["full_name"] or "", r["birth_date"] or "",
            r["sex"] or "", r["citizen_id"] or "",
        )  # fmt: skip
    console.print(rows)


@voters_app.command("diff")
@handle_errors
def diff(
    commune: CommuneOpt,
    data: DataDir = DEFAULT_DATA,
    version: Version = None,
    as_user: AsUser = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per change.")] = False,
) -> None:
    """Who a list added and removed against the commune's list before it, and why."""
    from vigil.registry.voters.export import find_list, read_list
    from vigil.store.users import officer_actor

    with open_deployment(data) as dep, dep.store.reader() as session:
        actor = officer_actor(session, dep.units, as_user) if as_user else dep.system("cli")
        vl = find_list(session, actor, commune, version)
        view = read_list(session, actor, vl, limit=0)
    if as_json:
        for c in view.changes:
            typer.echo(json.dumps(c, ensure_ascii=False))
        return
    title = (
        f"{vl.commune} v{vl.version} against v{vl.version - 1}"
        if vl.previous_id
        else (f"{vl.commune} v{vl.version}: the first list, nothing to compare")
    )
    table = Table("change", "reason", "polling area", "person", title=title)
    for c in view.changes:
        table.add_row(c["change"], c["reason"], c["polling_area"], c["person_id"])
    console.print(table)


@voters_app.command("export")
@handle_errors
def export(
    commune: CommuneOpt,
    fmt: Annotated[str, typer.Option("--format", help="csv or pdf.")] = "csv",
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write (default: stdout for csv).")
    ] = None,
    data: DataDir = DEFAULT_DATA,
    version: Version = None,
    as_user: AsUser = None,
    reveal: Annotated[
        bool,
        typer.Option("--reveal", help="Unmasked names, birth dates and IDs (needs --as; audited)."),
    ] = False,
    lang: Annotated[str, typer.Option(help="Language of the PDF: vi or en.")] = "vi",
    area: Annotated[str | None, typer.Option("--area", help="Only this polling area.")] = None,
) -> None:
    """Export a voter list (audited); personal data masked unless --reveal."""
    from vigil.registry.voters.export import export_list
    from vigil.store.users import officer_actor

    if reveal and not as_user:
        raise ValidationError("--reveal needs --as USER (who reads the personal data)")
    if fmt == "pdf" and out is None:
        raise ValidationError("a PDF needs --out FILE")
    with open_deployment(data) as dep, dep.store.session() as session:
        actor = officer_actor(session, dep.units, as_user) if as_user else dep.system("cli")
        body = export_list(
            dep, session, actor, commune, fmt, version=version, reveal=reveal, lang=lang, area=area
        )
    if out is None:
        typer.echo(body.decode("utf-8"), nl=False)
    else:
        out.write_bytes(body)
        console.print(f"{out}: {len(body):,} bytes", markup=False)
