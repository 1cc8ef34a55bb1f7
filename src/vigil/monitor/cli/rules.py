"""`vigil rules`: check Sigma rules, register rule sets, list them, switch rules on and off."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
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
from vigil.core.i18n import _
from vigil.deployment import Deployment

rules_app = typer.Typer(help="Sigma rule sets: check, add, list.", no_args_is_help=True)


def mount(app: typer.Typer) -> None:
    app.add_typer(rules_app, name="rules")


def _t(deployment: Deployment, message: str) -> str:
    return _(message, deployment.settings.lang)


@rules_app.command("check")
@handle_errors
def rules_check(
    folder: Annotated[Path, typer.Argument(help="Folder (or file) of Sigma rules.")],
    data: DataDir = DEFAULT_DATA,
    min_severity: Annotated[
        str, typer.Option(help="Show issues from: error, high, medium, low.")
    ] = "low",
) -> None:
    """Validate Sigma rules: parse errors, pySigma validators, conversion; prints file:line."""
    from vigil.monitor.detect.sigma.rules import LEVELS, check_rules, problem_level, problem_line

    cut = LEVELS.index(min_severity) + 1 if min_severity in LEVELS else len(LEVELS)
    keep = set(LEVELS[:cut])
    issues = [i for i in check_rules(folder) if problem_level(i) in keep]
    for issue in issues:
        typer.echo(problem_line(issue))
    errors = sum(1 for i in issues if problem_level(i) in ("error", "high"))
    typer.echo(f"{len(issues)} issues, {errors} errors")
    if errors:
        raise typer.Exit(EXIT_FOUND)


@rules_app.command("add")
@handle_errors
def rules_add(
    folder: Annotated[Path, typer.Argument(help="Folder of Sigma rules (SigmaHQ layout).")],
    data: DataDir = DEFAULT_DATA,
    name: Annotated[
        str | None, typer.Option(help="Name of the rule set (default: folder name).")
    ] = None,
) -> None:
    """Register a rule set: every rule is converted to SQL now; failures are listed."""
    from vigil.monitor.detect.sigma.rules import problem_line
    from vigil.monitor.detect.sigma.ruleset import add_rule_set

    with open_deployment(data) as dep:
        with dep.store.session() as session:
            result = add_rule_set(session, dep.system("cli"), folder, name)
        for failure in result.failures:
            typer.echo(f"{failure.path}: {failure.error}")
        for issue in result.issues:
            typer.echo(problem_line(issue))
        console.print(
            _t(
                dep,
                "rule set {name}: {rules} rules, {converted} converted, {failed} failed "
                "({added} added, {updated} updated, {removed} removed)",
            ).format(
                name=result.name,
                rules=result.rules,
                converted=result.converted,
                failed=len(result.failures),
                added=result.added,
                updated=result.updated,
                removed=result.removed,
            )
        )


@rules_app.command("list")
@handle_errors
def rules_list(
    data: DataDir = DEFAULT_DATA,
    ruleset: Annotated[str | None, typer.Option(help="Only this rule set.")] = None,
    failed: Annotated[bool, typer.Option(help="Only rules that did not convert.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List registered Sigma rules."""
    from vigil.monitor.detect.sigma.ruleset import list_rules

    with open_deployment(data) as dep:
        with dep.store.reader() as session:
            rows: list[dict[str, Any]] = [
                {
                    "id": r.id,
                    "ruleset": r.ruleset,
                    "title": r.title,
                    "level": r.level,
                    "status": r.status,
                    "group": r.group_key,
                    "enabled": r.enabled,
                    "converted": r.sql is not None,
                    "error": r.error,
                    "path": r.path,
                    "tags": r.tags,
                }
                for r in list_rules(session, dep.system("cli"), ruleset, failed)
            ]
        if as_json:
            print_json_lines(rows)
            return
        table = Table(
            "id",
            _t(dep, "title"),
            _t(dep, "level"),
            _t(dep, "group"),
            _t(dep, "enabled"),
            _t(dep, "error"),
        )
        for r in rows:
            table.add_row(
                r["id"][:36],
                escape(r["title"][:60]),
                r["level"],
                r["group"],
                _t(dep, "yes") if r["enabled"] else _t(dep, "no"),
                escape(r["error"] or ""),
            )
        console.print(table)
        console.print(_t(dep, "{n} rules").format(n=len(rows)))


def _set_enabled(rule_id: str, data: Path, enabled: bool) -> None:
    from vigil.monitor.detect.sigma.ruleset import set_rule_enabled

    with open_deployment(data) as dep:
        with dep.store.session() as session:
            set_rule_enabled(session, dep.system("cli"), rule_id, enabled)
        message = "rule {id} enabled" if enabled else "rule {id} disabled"
        console.print(_t(dep, message).format(id=rule_id))


@rules_app.command("enable")
@handle_errors
def rules_enable(rule_id: str, data: DataDir = DEFAULT_DATA) -> None:
    """Run this rule again."""
    _set_enabled(rule_id, data, True)


@rules_app.command("disable")
@handle_errors
def rules_disable(rule_id: str, data: DataDir = DEFAULT_DATA) -> None:
    """Stop running this rule."""
    _set_enabled(rule_id, data, False)


@rules_app.command("rescan")
@handle_errors
def rules_rescan(ruleset: str, data: DataDir = DEFAULT_DATA) -> None:
    """Forget which batches a rule set has scanned; the next run scans them all again."""
    from vigil.monitor.detect.sigma.ruleset import forget_scans

    with open_deployment(data) as dep:
        with dep.store.session() as session:
            n = forget_scans(session, dep.system("cli"), ruleset)
        console.print(
            _t(dep, "rule set {name} will scan {n} batches again").format(name=ruleset, n=n)
        )
