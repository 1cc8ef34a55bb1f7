"""`vigil inspect` (catalog, plan, answer, evidence, score, close, remediation) and `vigil vulns`
(import OSV data offline, match an inventory), from a terminal.

Commands act as the system actor, or as the officer named by --as (then that officer's role and
units apply). Times are read in the province's time unless they carry an offset.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.orm import Session

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
from vigil.core.access import Actor
from vigil.core.clock import format_local, parse_optional_time
from vigil.deployment import Deployment
from vigil.inspect.controls.catalog import BUILTIN, load_catalog, validate_catalog
from vigil.inspect.evidence.backups import ResticRepo
from vigil.inspect.evidence.checklist import read_checklist, write_checklist_xlsx
from vigil.inspect.vulns.inventories import read_inventory
from vigil.inspect.vulns.match import match_inventory
from vigil.inspect.vulns.osv import import_path
from vigil.inspect.workflow import inspections as wf
from vigil.inspect.workflow.evidence import CheckContext, attach_evidence
from vigil.plugins import scenarios
from vigil.store.users import officer_actor

AsUser = Annotated[
    str | None,
    typer.Option("--as", help="Act as this officer (their role and units apply); default: system."),
]
Json = Annotated[bool, typer.Option("--json", help="JSON output (one object per line).")]
InspectionId = Annotated[int, typer.Argument(help="The inspection's number.")]

inspect_app = typer.Typer(
    help="Inspections of units: control catalog, plan, answers, evidence, scorecard, remediation.",
    no_args_is_help=True,
)
catalog_app = typer.Typer(help="The control catalog and its profiles.", no_args_is_help=True)
vulns_app = typer.Typer(
    help="Known-vulnerable software: OSV data imported offline, inventories matched.",
    no_args_is_help=True,
)
inspect_app.add_typer(catalog_app, name="catalog")


@contextmanager
def _acting(data: Path, as_user: str | None) -> Iterator[tuple[Deployment, Session, Actor]]:
    with open_deployment(data) as dep, dep.store.session() as session:
        actor = officer_actor(session, dep.units, as_user) if as_user else dep.system("cli")
        yield dep, session, actor


def _evidence_store(dep: Deployment) -> Path:
    return dep.settings.data / "inspect" / "evidence"


@catalog_app.command("check")
@handle_errors
def catalog_check(
    path: Annotated[
        Path | None, typer.Argument(help="Catalog YAML (default: the built-in one).")
    ] = None,
    as_json: Json = False,
) -> None:
    """Validate a catalog and its profiles; every problem with its file and line (exit 3)."""
    target = path or BUILTIN
    catalog, problems = validate_catalog(target)
    if as_json:
        print_json_lines([p.as_dict() for p in problems])
    else:
        for p in problems:
            typer.echo(str(p))
        if catalog is not None:
            typer.echo(
                f"{target}: {len(catalog.controls)} controls in {len(catalog.groups)} "
                f"groups, {len(catalog.profiles)} profiles",
            )
    if any(p.is_error for p in problems):
        raise typer.Exit(EXIT_FOUND)


@catalog_app.command("show")
@handle_errors
def catalog_show(
    profile: Annotated[str | None, typer.Option(help="Only this profile's controls.")] = None,
    lang: Annotated[str, typer.Option(help="en or vi.")] = "en",
) -> None:
    """The controls of the built-in catalog (or of one profile)."""
    catalog = load_catalog()
    controls = (
        catalog.controls_of(catalog.profile(profile)) if profile else catalog.controls.values()
    )
    table = Table("control", "group", "level", "severity", "check", "title")
    for c in controls:
        table.add_row(c.id, c.group, str(c.level), c.severity.label, c.check, c.name(lang))
    console.print(table)


@inspect_app.command("plan")
@handle_errors
def plan(
    unit: Annotated[str, typer.Argument(help="Unit code.")],
    profile: Annotated[str, typer.Option(help="Profile id (see `vigil inspect catalog show`).")],
    date: Annotated[str | None, typer.Option(help="When (default: now).")] = None,
    data: DataDir = DEFAULT_DATA,
    as_user: AsUser = None,
) -> None:
    """Plan an inspection of a unit against a profile; prints its number."""
    with _acting(data, as_user) as (dep, session, actor):
        when = parse_optional_time(date, "--date") or dep.now()
        row = wf.plan_inspection(session, actor, load_catalog(), unit, profile, when)
        typer.echo(row.id)


@inspect_app.command("answer")
@handle_errors
def answer(
    inspection: InspectionId,
    control: Annotated[str, typer.Argument(help="Control id.")],
    status: Annotated[str, typer.Argument(help="pass, partial, fail or na.")],
    note: Annotated[str, typer.Option(help="What was seen.")] = "",
    data: DataDir = DEFAULT_DATA,
    as_user: AsUser = None,
) -> None:
    """Answer one control of a planned inspection."""
    with _acting(data, as_user) as (dep, session, actor):
        wf.record_answer(
            session, actor, load_catalog(), inspection, control, status, note=note, now=dep.now()
        )


@inspect_app.command("checklist")
@handle_errors
def checklist(
    inspection: InspectionId,
    out: Annotated[Path, typer.Option(help="Where to write the blank checklist (.xlsx).")],
    data: DataDir = DEFAULT_DATA,
    as_user: AsUser = None,
) -> None:
    """Write a blank XLSX checklist of the inspection's controls, to fill offline."""
    with _acting(data, as_user) as (_dep, session, actor):
        row = wf.get_inspection(session, actor, inspection)
        catalog = load_catalog()
        controls = catalog.controls_of(catalog.profile(row.profile))
        write_checklist_xlsx(out, [(c.id, c.title, "") for c in controls])
    console.print(f"{out}: {len(controls)} controls")


@inspect_app.command("import-checklist")
@handle_errors
def import_checklist(
    inspection: InspectionId,
    path: Annotated[Path, typer.Argument(help="A filled checklist (.yaml or .xlsx).")],
    data: DataDir = DEFAULT_DATA,
    as_user: AsUser = None,
) -> None:
    """Take the answers of a filled checklist; rows that cannot be read are named (exit 3)."""
    rows, problems = read_checklist(path)
    with _acting(data, as_user) as (dep, session, actor):
        catalog = load_catalog()
        for row in rows:
            wf.record_answer(
                session,
                actor,
                catalog,
                inspection,
                row.control,
                row.status,
                note=row.note,
                source="checklist",
                now=dep.now(),
            )
    for p in problems:
        err_console.print(str(p), highlight=False, markup=False)
    console.print(f"{len(rows)} answers taken, {len(problems)} problems")
    if problems:
        raise typer.Exit(EXIT_FOUND)


@inspect_app.command("evidence")
@handle_errors
def evidence(
    inspection: InspectionId,
    kind: Annotated[str, typer.Argument(help="backup, irplan, inventory, lynis or other.")],
    path: Annotated[Path, typer.Argument(help="The evidence file.")],
    restic_repo: Annotated[
        Path | None, typer.Option(help="The restic repository a backup manifest describes.")
    ] = None,
    restic_password_file: Annotated[Path | None, typer.Option(help="Its password file.")] = None,
    data: DataDir = DEFAULT_DATA,
    as_user: AsUser = None,
) -> None:
    """Attach evidence; its automated check answers the controls it covers."""
    repo = (
        ResticRepo(restic_repo, restic_password_file)
        if restic_repo and restic_password_file
        else None
    )
    with _acting(data, as_user) as (dep, session, actor):
        ctx = CheckContext(dep.lake, scenarios(), dep.now(), repo)
        _row, verdicts = attach_evidence(
            session, actor, load_catalog(), inspection, kind, path, _evidence_store(dep), ctx
        )
    for v in verdicts:
        console.print(
            f"{v.check}: {v.status}" + (f" ({'; '.join(v.reasons)})" if v.reasons else ""),
            highlight=False,
            markup=False,
        )


@inspect_app.command("show")
@handle_errors
def show(
    inspection: InspectionId,
    data: DataDir = DEFAULT_DATA,
    as_json: Json = False,
    as_user: AsUser = None,
) -> None:
    """The scorecard: per group and overall, level attained, trend since the last inspection."""
    with _acting(data, as_user) as (_dep, session, actor):
        row = wf.get_inspection(session, actor, inspection)
        view = wf.view_inspection(session, load_catalog(), row)
    card, tr = view.scorecard, view.trend
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "inspection": row.id,
                    "unit": row.unit,
                    "profile": row.profile,
                    "status": row.status,
                    "overall": card.overall,
                    "level": card.level,
                    "target_level": card.target_level,
                    "groups": {g.group: g.score for g in card.groups},
                    "shortfalls": [{"control": c.id, "status": s} for c, s in card.shortfalls],
                    "trend": None
                    if tr is None
                    else {"overall": tr.overall_change, "level": tr.level_change},
                },
                ensure_ascii=False,
            )
        )
        return
    table = Table("group", "score", "pass", "partial", "fail", "unanswered", "na")
    for g in card.groups:
        c = g.counts
        table.add_row(
            g.title,
            "-" if g.score is None else f"{g.score:.1f}",
            str(c["pass"]),
            str(c["partial"]),
            str(c["fail"]),
            str(c["unanswered"]),
            str(c["na"]),
        )
    console.print(table)
    change = "" if tr is None else f" ({tr.overall_change:+.1f} since the last inspection)"
    console.print(f"overall {card.overall:.1f}{change}; level {card.level} of {card.target_level}")


@inspect_app.command("close")
@handle_errors
def close(
    inspection: InspectionId,
    owner: Annotated[
        str, typer.Option(help="Who must fix the shortfalls (default: the unit's head).")
    ] = "",
    data: DataDir = DEFAULT_DATA,
    as_user: AsUser = None,
) -> None:
    """Close an inspection: score it for good and open a remediation item per shortfall."""
    with _acting(data, as_user) as (dep, session, actor):
        items = wf.close_inspection(session, actor, load_catalog(), inspection, dep.now(), owner)
        for item in items:
            console.print(
                f"{item.id}\t{item.control}\tdue {format_local(item.due_at)}", highlight=False
            )


@inspect_app.command("list")
@handle_errors
def list_inspections(
    data: DataDir = DEFAULT_DATA, as_json: Json = False, as_user: AsUser = None
) -> None:
    """Inspections, newest first."""
    from sqlalchemy import select

    from vigil.inspect.models import Inspection

    with _acting(data, as_user) as (_dep, session, actor):
        rows = session.scalars(
            select(Inspection)
            .where(Inspection.unit.in_(actor.scope))
            .order_by(Inspection.planned_for.desc(), Inspection.id.desc())
        ).all()
        lines = [
            {
                "id": r.id,
                "unit": r.unit,
                "profile": r.profile,
                "status": r.status,
                "planned_for": r.planned_for.isoformat(),
                "score": r.score,
                "level": r.level,
            }
            for r in rows
        ]
    if as_json:
        print_json_lines(lines)
        return
    table = Table(*lines[0].keys()) if lines else Table("id")
    for line in lines:
        table.add_row(*(str(v) for v in line.values()))
    console.print(table)


@inspect_app.command("remediation")
@handle_errors
def remediation(
    done: Annotated[int | None, typer.Option(help="Mark this item done.")] = None,
    note: Annotated[str, typer.Option(help="With --done: what was fixed.")] = "",
    data: DataDir = DEFAULT_DATA,
    as_json: Json = False,
    as_user: AsUser = None,
) -> None:
    """Open remediation items, soonest due first (overdue marked); or mark one done."""
    with _acting(data, as_user) as (dep, session, actor):
        if done is not None:
            wf.complete_remediation(session, actor, done, dep.now(), note)
            return
        now = dep.now()
        lines = [
            {
                "id": i.id,
                "unit": i.unit,
                "control": i.control,
                "owner": i.owner,
                "due_at": i.due_at.isoformat(),
                "overdue": wf.overdue(i, now),
            }
            for i in wf.remediation_items(session, actor)
        ]
    if as_json:
        print_json_lines(lines)
        return
    for line in lines:
        late = " OVERDUE" if line["overdue"] else ""
        console.print(
            f"{line['id']}\t{line['unit']}\t{line['control']}\t{line['owner']}\t"
            f"{line['due_at']}{late}",
            highlight=False,
        )


@vulns_app.command("import")
@handle_errors
def vulns_import(
    path: Annotated[
        Path, typer.Argument(help="Folder or zip of OSV JSON/YAML, or CISA's KEV JSON.")
    ],
    data: DataDir = DEFAULT_DATA,
) -> None:
    """Import OSV advisories (or the KEV catalog) offline; the same data twice adds nothing."""
    with (
        open_deployment(data) as dep,
        Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed} files"),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
        ) as bar,
    ):
        task = bar.add_task("advisories", total=None)
        result = import_path(dep.lake, dep.quarantine, path, lambda n: bar.advance(task, n))
    for p in result.problems:
        err_console.print(str(p), highlight=False, markup=False)
    if result.kev >= 0:
        console.print(f"{result.kev} known-exploited vulnerabilities imported (0: already there)")
        return
    console.print(
        f"{result.files} files: {result.advisories} advisories imported "
        f"({result.rows} package entries, snapshot {result.snapshot or '-'}), "
        f"{result.skipped} already there, {len(result.problems)} quarantined"
    )


@vulns_app.command("match")
@handle_errors
def vulns_match(
    inventory: Annotated[
        Path,
        typer.Argument(
            help="SBOM (CycloneDX/SPDX JSON), pip freeze, dpkg -l, package-lock.json, go.sum, "
            "Cargo.lock."
        ),
    ],
    data: DataDir = DEFAULT_DATA,
    as_json: Json = False,
) -> None:
    """Vulnerable components of an inventory (exit 3 when any)."""
    components, problems = read_inventory(inventory)
    with open_deployment(data) as dep:
        matches = match_inventory(dep.lake, components)
    for p in problems:
        err_console.print(str(p), highlight=False, markup=False)
    if as_json:
        print_json_lines([m.as_dict() for m in matches])
    else:
        for m in matches:
            kev = " KEV" if m.known_exploited else ""
            console.print(
                f"{m.component.ecosystem} {m.component.name} {m.component.version}: "
                f"{m.advisory.advisory}{kev} fixed in {', '.join(m.advisory.fixed) or '-'}",
                highlight=False,
                markup=False,
            )
        console.print(f"{len(components)} components, {len(matches)} vulnerable matches")
    if matches:
        raise typer.Exit(EXIT_FOUND)


def mount(app: typer.Typer) -> None:
    app.add_typer(inspect_app, name="inspect")
    app.add_typer(vulns_app, name="vulns")
