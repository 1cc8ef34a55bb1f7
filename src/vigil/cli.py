"""The `vigil` command. Each capability mounts its own sub-command through the `vigil_cli` hook."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

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
    settings_for,
)
from vigil.core.access import Role
from vigil.core.config import load_province, write_secret
from vigil.core.errors import ConfigError, ValidationError
from vigil.core.severity import Severity
from vigil.plugins import plugin_manager

app = typer.Typer(help="Vigil: election security operations.", no_args_is_help=True)
user_app = typer.Typer(help="Officer accounts.", no_args_is_help=True)
findings_app = typer.Typer(help="Findings from every capability.", no_args_is_help=True)
app.add_typer(user_app, name="user")
backup_app = typer.Typer(
    help="Vigil's own data: snapshots in a restic repository.", no_args_is_help=True
)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
app.add_typer(findings_app, name="findings")
app.add_typer(backup_app, name="backup")
app.add_typer(audit_app, name="audit")

RepoOption = Annotated[
    str, typer.Option("--repo", envvar="RESTIC_REPOSITORY", help="The restic repository.")
]
PasswordFile = Annotated[
    Path,
    typer.Option(
        "--password-file",
        envvar="RESTIC_PASSWORD_FILE",
        help="File holding the repository's password (never given on the command line).",
    ),
]


@app.command()
@handle_errors
def init(data: DataDir = DEFAULT_DATA) -> None:
    """Create a data directory: a commented vigil.toml to edit, a secret key, the database."""
    data.mkdir(parents=True, exist_ok=True)
    config = data / "vigil.toml"
    if config.exists():
        console.print(f"{config} exists; leaving it as it is")
    else:
        template = resources.files("vigil.core").joinpath("vigil.example.toml")
        with resources.as_file(template) as src:
            shutil.copyfile(src, config)
        console.print(f"wrote {config}: edit the province, units and calendar")
    write_secret(data)
    load_province(config)
    with open_deployment(data) as dep:
        from vigil.store.units import sync_units

        with dep.store.session() as session:
            sync_units(session, dep.units)
        console.print(f"database ready at {dep.settings.db_url}")


@app.command()
@handle_errors
def detect(
    data: DataDir = DEFAULT_DATA,
    capability: Annotated[list[str] | None, typer.Option(help="Only these capabilities.")] = None,
) -> None:
    """Run every capability's detectors over what is stored and record the findings."""
    from vigil.detection import run_detectors

    with open_deployment(data) as dep:
        with console.status("detecting…") as status:
            runs = run_detectors(
                dep, set(capability or []), lambda c: status.update(f"detecting: {c}")
            )
        table = Table("capability", "new", "updated", "unchanged", "seconds", "error")
        for run in runs:
            r = run.result
            table.add_row(
                run.capability,
                str(r.created),
                str(r.updated),
                str(r.unchanged),
                f"{run.seconds:.2f}",
                run.error or "",
            )
        console.print(table)
        if any(run.error for run in runs):
            raise typer.Exit(EXIT_ERROR)


@app.command()
@handle_errors
def serve(
    data: DataDir = DEFAULT_DATA,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Server processes (one per core: a process runs Python on one core at a time). "
            "Sessions are in the store and shared; the login throttle is counted per process.",
        ),
    ] = 1,
) -> None:
    """Serve the dashboard and the JSON API."""
    import uvicorn

    from vigil.web.app import create_app

    settings = settings_for(data)
    console.print(f"Vigil at http://{host}:{port}  (Ctrl-C to stop)")
    # uvicorn would believe X-Forwarded-For from 127.0.0.1 by itself; the app decides instead,
    # from the trusted_proxies setting (vigil.web.addresses).
    if workers == 1:
        uvicorn.run(
            create_app(settings), host=host, port=port, log_level="warning", proxy_headers=False
        )
        return
    # Each worker process builds the app from the environment (an app object cannot be sent).
    os.environ["VIGIL_DATA"] = str(settings.data.resolve())
    uvicorn.run(
        "vigil.web.app:app_from_environment",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="warning",
        proxy_headers=False,
    )


@app.command("plugins")
@handle_errors
def plugins(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per plugin.")] = False,
) -> None:
    """Every registered plugin (the built-in rooms too) and what it registered through each hook:
    commands, routes, menu entries, dashboard panels, templates, migrations, translations,
    tables, whether it has detectors and demo data."""
    from vigil.inventory import inventory

    found = inventory()
    if as_json:
        print_json_lines([p.as_dict() for p in found])
        return
    for plugin in found:
        table = Table("through", "registered", title=f"{plugin.name}", title_justify="left")
        table.caption = f"{plugin.module} ({plugin.distribution})"
        for hook, value in plugin.summary():
            table.add_row(hook, value)
        console.print(table)


@user_app.command("add")
@handle_errors
def user_add(
    username: str,
    role: Annotated[Role, typer.Option(help="Role of the officer.")],
    unit: Annotated[str, typer.Option(help="Code of the officer's unit.")],
    data: DataDir = DEFAULT_DATA,
    full_name: Annotated[str, typer.Option(help="Full name.")] = "",
    lang: Annotated[str, typer.Option(help="Interface language: vi or en.")] = "vi",
    password: Annotated[
        str,
        typer.Option(
            prompt=True, hide_input=True, confirmation_prompt=True, envvar="VIGIL_NEW_PASSWORD"
        ),
    ] = "",
) -> None:
    """Add an officer account (the password is asked for, or read from VIGIL_NEW_PASSWORD)."""
    from vigil.store.audit import audit
    from vigil.store.users import create_user

    with open_deployment(data) as dep:
        with dep.store.session() as session:
            user = create_user(session, dep.units, username, password, role, unit, full_name, lang)
            audit(
                session,
                dep.system("cli"),
                "user.create",
                f"user:{user.username}",
                {"role": user.role, "unit": unit},
            )
        console.print(f"added {username} ({role.value}, {unit})")


@user_app.command("list")
@handle_errors
def user_list(data: DataDir = DEFAULT_DATA) -> None:
    """List officer accounts."""
    from sqlalchemy import select

    from vigil.store.models import User

    with open_deployment(data) as dep:
        table = Table("username", "name", "role", "unit", "lang", "active")
        with dep.store.reader() as session:
            for u in session.scalars(select(User).order_by(User.unit, User.username)):
                table.add_row(
                    u.username, u.full_name, u.role, u.unit, u.lang, "yes" if u.active else "no"
                )
        console.print(table)


@findings_app.command("list")
@handle_errors
def findings_list(
    data: DataDir = DEFAULT_DATA,
    capability: Annotated[str | None, typer.Option(help="Only this capability.")] = None,
    severity: Annotated[str | None, typer.Option(help="At least this severity.")] = None,
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    unit: Annotated[str | None, typer.Option(help="Only this unit.")] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    as_user: Annotated[
        str | None, typer.Option("--as", help="As this officer: their units.")
    ] = None,
    reveal: Annotated[
        bool,
        typer.Option("--reveal", help="Unmasked personal data in --json (needs --as; audited)."),
    ] = False,
) -> None:
    """List findings, most severe and newest first; personal data masked unless --reveal."""
    from vigil.store.findings import finding_dict, list_findings
    from vigil.store.personal import reveal_findings
    from vigil.store.users import officer_actor

    if reveal and not (as_json and as_user):
        raise ValidationError("--reveal needs --json and --as USER (who reads the personal data)")
    with open_deployment(data) as dep:
        with dep.store.session() if reveal else dep.store.reader() as session:
            actor = officer_actor(session, dep.units, as_user) if as_user else None
            rows = list_findings(
                session,
                scope=actor.scope if actor else None,
                capability=capability,
                min_severity=int(Severity.parse(severity)) if severity else None,
                status=status,
                unit=unit,
                limit=limit,
            )
            dicts = [finding_dict(r) for r in rows]
            if reveal and actor:
                revealed = reveal_findings(session, actor, rows, channel="cli")
                for d in dicts:
                    d["evidence"] = revealed[d["id"]]
        if as_json:
            print_json_lines(dicts)
            return
        table = Table(
            "id",
            "severity",
            "capability",
            "rule",
            "unit",
            "subject",
            "count",
            "status",
            "last seen",
        )
        for d in dicts:
            table.add_row(
                str(d["id"]),
                d["severity"],
                d["capability"],
                d["rule"][:40],
                d["unit"],
                d["subject"][:40],
                str(d["count"]),
                d["status"],
                d["last_seen"][:16],
            )
        console.print(table)
        console.print(
            f"{len(dicts)} findings; by severity: {dict(Counter(d['severity'] for d in dicts))}"
        )


@backup_app.command("create")
@handle_errors
def backup_create(
    repo: RepoOption, password_file: PasswordFile, data: DataDir = DEFAULT_DATA
) -> None:
    """Snapshot the store (SQLite online backup or pg_dump), the lake, the rules and the data
    directory into the repository, encrypted; the key is named, never copied."""
    from vigil.backup import Repository, create_backup

    with open_deployment(data) as dep, console.status("backing up"):
        result = create_backup(dep, Repository(repo, password_file))
    tables = result.manifest["tables"]
    console.print(
        f"snapshot {result.snapshot}: {sum(tables.values())} rows in {len(tables)} tables, "
        f"{sum(result.manifest['lake'].values())} lake rows; "
        f"key not copied (lives at {result.manifest['key']['location']})"
    )


@backup_app.command("verify")
@handle_errors
def backup_verify(repo: RepoOption, password_file: PasswordFile) -> None:
    """Read every byte of the repository back (restic check --read-data); exit 3 if bad."""
    from vigil.backup import Repository, verify_backup

    with console.status("reading every pack back"):
        result = verify_backup(Repository(repo, password_file))
    if not result.ok:
        err_console.print(f"[red]backup damaged:[/red] {result.output}")
        raise typer.Exit(EXIT_FOUND)
    console.print("backup verified: every pack read back and matched")


@backup_app.command("restore")
@handle_errors
def backup_restore(
    repo: RepoOption,
    password_file: PasswordFile,
    target: Annotated[Path, typer.Option(help="An empty folder: the restored data directory.")],
    snapshot: Annotated[str, typer.Option(help="Snapshot id.")] = "latest",
) -> None:
    """Restore a snapshot into an empty folder as a data directory."""
    from vigil.backup import Repository, restore_backup

    with console.status("restoring"):
        manifest = restore_backup(Repository(repo, password_file), target, snapshot)
    console.print(
        f"restored into {target}: {sum(manifest['tables'].values())} rows; put the key back "
        f"(it lived at {manifest['key']['location']}, sha256 {manifest['key']['sha256']})"
    )


@audit_app.command("verify")
@handle_errors
def audit_verify(data: DataDir = DEFAULT_DATA) -> None:
    """Check the hash chain of the audit log; name the first broken link (exit 3)."""
    from sqlalchemy import func, select

    from vigil.store.audit import verify_chain
    from vigil.store.models import AuditEntry

    with open_deployment(data) as dep, dep.store.reader() as session:
        total = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
        breaks = verify_chain(session)
    if breaks:
        first = breaks[0]
        err_console.print(
            f"[red]audit log broken[/red] at entry {first.entry_id}: {first.reason} "
            f"({len(breaks)} broken links in {total} entries)"
        )
        raise typer.Exit(EXIT_FOUND)
    console.print(f"audit log whole: {total} entries chained")


_mounted: list[bool] = []


def build_cli() -> typer.Typer:
    """The root command with every capability's sub-commands mounted (once)."""
    if not _mounted:
        plugin_manager().hook.vigil_cli(app=app)
        _mounted.append(True)
    return app


def main() -> None:
    try:
        cli = build_cli()
    except ConfigError as e:
        err_console.print(f"[red]error:[/red] {e}")
        raise SystemExit(EXIT_ERROR) from e
    cli()
