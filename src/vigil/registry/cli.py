"""`vigil registry`: import extracts, run the quality rules, link records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from vigil.clikit import (
    DEFAULT_DATA,
    EXIT_FOUND,
    DataDir,
    console,
    handle_errors,
    open_deployment,
    print_json_lines,
)
from vigil.registry.voters.cli import voters_app
from vigil.reports.cli import AsUser, Lang, Out, Pdf, report_actor, report_group
from vigil.store.findings import record_findings

registry_app = typer.Typer(
    help="Population registry: import, quality rules, record linkage, voter lists.",
    no_args_is_help=True,
)
registry_app.add_typer(voters_app, name="voters")


def _bar() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}"),
        TimeElapsedColumn(),
        console=console,
    )


@registry_app.command("import")
@handle_errors
def registry_import(
    paths: Annotated[list[Path], typer.Argument(help="Extract files (CSV, XLSX, Parquet).")],
    kind: Annotated[
        str, typer.Option("--kind", help="What the files hold: persons, households, deaths, moves.")
    ],
    mapping: Annotated[
        Path | None, typer.Option("--mapping", help="YAML mapping of another layout's columns.")
    ] = None,
    data: DataDir = DEFAULT_DATA,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON report per file.")] = False,
) -> None:
    """Import registry extracts into the lake (the same file twice adds nothing)."""
    from vigil.registry.ingest.extract import import_extract
    from vigil.registry.ingest.mapping import load_mapping

    layout = load_mapping(mapping)
    reports = []
    with open_deployment(data) as dep, _bar() as bar:
        for path in paths:
            task = bar.add_task(f"{path.name}", total=None)

            def advance(rows: int, task: TaskID = task) -> None:
                bar.update(task, completed=rows)

            reports.append(import_extract(dep, path, kind, layout, advance))
            bar.update(task, completed=reports[-1].rows, total=reports[-1].rows or 1)
    if as_json:
        print_json_lines([r.as_dict() for r in reports])
        return
    for r in reports:
        if r.already:
            console.print(f"{r.path}: already imported, nothing added")
            continue
        console.print(
            f"{r.path}: {r.rows:,} rows into {r.dataset} (encoding {r.encoding}), "
            f"{r.quarantined:,} quarantined",
            markup=False,
        )
        for p in r.problems[:20]:
            console.print(f"  {p}", markup=False)


@registry_app.command("check")
@handle_errors
def registry_check(
    data: DataDir = DEFAULT_DATA,
    everything: Annotated[
        bool, typer.Option("--all", help="Check every record again, not only new batches.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON finding per line.")] = False,
) -> None:
    """Run the quality rules and record their findings (as `vigil detect` does)."""
    from vigil.registry.rules.check import check_registry

    with open_deployment(data) as dep:
        with _bar() as bar:
            task = bar.add_task("rules", total=None)
            result = check_registry(
                dep, everything=everything, progress=lambda r: bar.update(task, description=r)
            )
        with dep.store.session() as session:
            record_findings(session, result.findings)
            result.save_progress(session)
    if as_json:
        print_json_lines(
            [
                {"rule": f.rule, "unit": f.unit, "subject": f.subject, "severity": f.severity.label}
                for f in result.findings
            ]
        )
    else:
        table = Table(title="Registry quality rules")
        table.add_column("Rule")
        table.add_column("Failures", justify="right")
        for rule, n in sorted(result.counts.items()):
            table.add_row(rule, f"{n:,}")
        console.print(table)
        console.print(f"{len(result.new_batches)} new batches checked")
    if result.findings:
        raise typer.Exit(EXIT_FOUND)


@registry_app.command("link")
@handle_errors
def registry_link(
    data: DataDir = DEFAULT_DATA,
    other: Annotated[
        str | None,
        typer.Option(
            "--with",
            help="Link the registry with another source instead of deduplicating it: "
            "'deaths', or a CSV/XLSX/Parquet file of persons (with --id).",
        ),
    ] = None,
    id_column: Annotated[str, typer.Option("--id", help="The id column of --with FILE.")] = "id",
    threshold: Annotated[float, typer.Option(help="Lowest match probability shown.")] = 0.9,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per pair.")] = False,
) -> None:
    """Pairs of records that name one person: {left, right, probability, explanation}."""
    from vigil.registry.linkage.link import dedupe, link, train
    from vigil.registry.linkage.sources import death_records, registry_persons

    with open_deployment(data) as dep:
        engine = dep.lake.engine
        persons = registry_persons(dep.lake)
        with console.status("training the linkage model"):
            model = train(persons, engine)
        if other is None:
            pairs = dedupe(persons, model, engine, threshold=threshold)
        else:
            right = (
                death_records(dep.lake)
                if other == "deaths"
                else _persons_file(Path(other), id_column)
            )
            pairs = link(persons, right, model, engine, threshold=threshold)
    if as_json:
        for pair in pairs:
            typer.echo(json.dumps(pair.as_dict(), ensure_ascii=False))
        return
    table = Table(title=f"{len(pairs):,} proposed pairs")
    for name in ("Left", "Right", "Probability"):
        table.add_column(name)
    for pair in pairs[:50]:
        table.add_row(pair.left, pair.right, f"{pair.probability:.4f}")
    console.print(table)


def _persons_file(path: Path, id_column: str) -> object:
    import pyarrow as pa

    from vigil.registry.ingest.read import read_rows
    from vigil.registry.linkage.sources import persons_table
    from vigil.registry.text import normalise_citizen_id, parse_birth_date

    _, rows = read_rows(path)
    records = []
    for _line, row in rows:
        row = dict(row)
        try:
            row["birth_date"] = parse_birth_date(row.get("birth_date"))
        except ValueError:
            row["birth_date"] = None
        row["citizen_id"] = normalise_citizen_id(row.get("citizen_id"))
        records.append({k: (None if v is None else v) for k, v in row.items()})
    table = pa.Table.from_pylist(records)
    return persons_table(table, id_column)


@handle_errors
def registry_report_command(
    commune: Annotated[
        str | None, typer.Argument(help="Commune code; without it, the whole province.")
    ] = None,
    data: DataDir = DEFAULT_DATA,
    lang: Lang = None,
    pdf: Pdf = True,
    out: Out = None,
    as_user: AsUser = None,
) -> None:
    """The registry data-quality report of a commune or the province: the four scores with
    their trend, worst villages, failures per rule and required field, household review
    coverage, duplicate review status."""
    from vigil.registry.report import registry_report
    from vigil.reports.archive import publish

    with open_deployment(data) as dep:
        actor = report_actor(dep, as_user)
        made = registry_report(dep, actor, lang or dep.settings.lang, commune)
        for path in publish(dep, actor, made, pdf=pdf, out=out):
            typer.echo(path)


def mount(app: typer.Typer) -> None:
    """`vigil registry ...` and `vigil report registry [COMMUNE]` on the root command."""
    app.add_typer(registry_app, name="registry")
    report_group(app).command("registry")(registry_report_command)
