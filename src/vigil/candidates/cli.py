"""`vigil candidates import` and `vigil candidates check`, and `vigil report candidates`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from vigil.clikit import (
    DEFAULT_DATA,
    EXIT_FOUND,
    DataDir,
    console,
    err_console,
    handle_errors,
    open_deployment,
    print_json_lines,
)
from vigil.core.errors import ValidationError
from vigil.reports.cli import AsUser, Lang, Out, Pdf, report_actor, report_group

candidates_app = typer.Typer(
    help="Candidate declarations checked against the population registry.", no_args_is_help=True
)


def _bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,  # stdout stays clean for --json
        transient=True,
    )


@candidates_app.command("import")
@handle_errors
def import_command(
    file: Annotated[
        Path, typer.Argument(help="CSV or XLSX file of declarations.", exists=True, dir_okay=False)
    ],
    mapping: Annotated[
        Path | None,
        typer.Option(
            help="YAML file mapping the file's headers onto the room's columns.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    data: DataDir = DEFAULT_DATA,
    as_json: Annotated[
        bool, typer.Option("--json", help="The import report as one JSON object.")
    ] = False,
) -> None:
    """Import candidate declarations; the same file twice adds nothing, bad rows are quarantined."""
    from vigil.candidates.ingest import import_declarations
    from vigil.candidates.mapping import load_mapping
    from vigil.store.audit import audit

    layout = load_mapping(mapping)
    with open_deployment(data) as dep, _bar() as bar:
        task = bar.add_task(f"Importing {file.name}", total=None)
        result = import_declarations(
            dep, file, layout, lambda done, total: bar.update(task, completed=done, total=total)
        )
        with dep.store.session() as session:
            audit(
                session,
                dep.system("cli"),
                "candidates.import",
                f"file:{file.name}",
                {
                    "rows": result.rows,
                    "imported": result.imported,
                    "quarantined": result.quarantined,
                    "already": result.already,
                },
            )
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "file": result.path,
                    "encoding": result.encoding,
                    "rows": result.rows,
                    "imported": result.imported,
                    "quarantined": result.quarantined,
                    "already_imported": result.already,
                    "problems": [p.as_dict() for p in result.problems],
                },
                ensure_ascii=False,
            )
        )
        return
    if result.already:
        console.print(f"{file}: already imported, nothing added")
        return
    console.print(
        f"{file} ({result.encoding}): {result.rows} rows, {result.imported} declarations imported, "
        f"{result.quarantined} quarantined"
    )
    for problem in result.problems:
        console.print(f"[yellow]{problem}[/yellow]", highlight=False)


@candidates_app.command("check")
@handle_errors
def check_command(
    data: DataDir = DEFAULT_DATA,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="One JSON object per candidate: candidate_id, status, mismatches."
        ),
    ] = False,
    as_user: Annotated[
        str | None, typer.Option("--as", help="As this officer: their units only.")
    ] = None,
    reveal: Annotated[
        bool,
        typer.Option(
            "--reveal", help="Unmasked declared and recorded values (needs --as; audited)."
        ),
    ] = False,
) -> None:
    """Check every candidate's declaration against the registry; one finding per mismatch.

    Personal data (names, IDs, birth dates, addresses) is masked unless --reveal. Exit code 3
    when any candidate is not verified.
    """
    from vigil.candidates.review import candidate_rows, mismatch_dicts, reveal_candidates
    from vigil.detection import run_detectors
    from vigil.store.users import officer_actor

    if reveal and not as_user:
        raise ValidationError("--reveal needs --as USER (who reads the personal data)")
    with open_deployment(data) as dep:
        with _bar() as bar:
            bar.add_task("Checking declarations", total=None)
            runs = run_detectors(dep, {"candidates"})
        for run in runs:
            if run.error:
                raise ValidationError(f"the check failed: {run.error}")
        with dep.store.session() as session:
            actor = officer_actor(session, dep.units, as_user) if as_user else dep.system("cli")
            rows = candidate_rows(session, actor)
            if reveal:
                reveal_candidates(session, actor, rows, channel="cli")
            out = [
                {
                    "candidate_id": r.candidate_id,
                    "status": r.status,
                    "mismatches": mismatch_dicts(r, reveal),
                }
                for r in rows
            ]
    if as_json:
        print_json_lines(out)
    else:
        _print_table(out)
    if any(o["status"] != "verified" for o in out):
        raise typer.Exit(EXIT_FOUND)


def _print_table(out: list[dict[str, Any]]) -> None:
    table = Table("candidate", "status", "field", "declared", "recorded")
    for o in out:
        if not o["mismatches"]:
            table.add_row(o["candidate_id"], o["status"], "", "", "")
        for i, m in enumerate(o["mismatches"]):
            table.add_row(
                o["candidate_id"] if i == 0 else "",
                o["status"] if i == 0 else "",
                m["field"],
                "" if m["declared"] is None else str(m["declared"]),
                "" if m["recorded"] is None else str(m["recorded"]),
            )
    console.print(table)
    counts: dict[str, int] = {}
    for o in out:
        counts[o["status"]] = counts.get(o["status"], 0) + 1
    console.print(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "no declarations")


@handle_errors
def report(
    data: DataDir = DEFAULT_DATA,
    lang: Lang = None,
    pdf: Pdf = True,
    out: Out = None,
    as_user: AsUser = None,
) -> None:
    """The candidate check report: statuses per commune, each mismatch declared against
    recorded (personal data masked)."""
    from vigil.candidates.report import candidates_report
    from vigil.reports.archive import publish

    with open_deployment(data) as dep:
        actor = report_actor(dep, as_user)
        made = candidates_report(dep, actor, lang or dep.settings.lang)
        for path in publish(dep, actor, made, pdf=pdf, out=out):
            typer.echo(path)


def mount(app: typer.Typer) -> None:
    """`vigil candidates ...` and `vigil report candidates` on the root command."""
    app.add_typer(candidates_app, name="candidates")
    report_group(app).command("candidates")(report)
