"""`vigil yara`: check YARA rule folders, scan files and folders with them (and indicators).

Output is in the deployment's language (VIGIL_LANG).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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
from vigil.core.config import Settings
from vigil.core.errors import Location
from vigil.core.finding import Finding
from vigil.core.i18n import _

if TYPE_CHECKING:
    from vigil.monitor.detect.yara.run import ScanJob

yara_app = typer.Typer(help="YARA rules over files and folders.", no_args_is_help=True)


def mount(app: typer.Typer) -> None:
    app.add_typer(yara_app, name="yara")


def _say(lang: str, message: str, **values: object) -> None:
    """One translated line; values are inserted after translation and never read as markup."""
    console.print(_(message, lang).format(**values), markup=False, highlight=False, soft_wrap=True)


RulesOption = Annotated[
    list[Path] | None,
    typer.Option("--rules", help="Rule file or folder (repeatable); default <data>/rules/yara."),
]


@yara_app.command("scan")
@handle_errors
def yara_scan(
    paths: Annotated[list[Path], typer.Argument(help="Files and folders to scan.")],
    data: DataDir = DEFAULT_DATA,
    rules: RulesOption = None,
    unit: Annotated[str | None, typer.Option(help="Unit the scanned machine belongs to.")] = None,
    host: Annotated[str | None, typer.Option(help="Host name; subjects become host:path.")] = None,
    workers: Annotated[int, typer.Option(help="Processes to scan with (0: one per core).")] = 1,
    max_size: Annotated[int, typer.Option(help="Skip files larger than this many MiB.")] = 64,
    iocs: Annotated[
        bool, typer.Option(help="Also match file hashes and paths against indicators.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per finding.")] = False,
) -> None:
    """Scan files with YARA rules (and indicators) and record every hit as a finding."""
    from vigil.monitor.detect.yara.run import run_scan

    with open_deployment(data) as dep:
        job = run_scan(
            dep,
            dep.system("cli"),
            paths,
            unit=unit or dep.units.root.code,
            rules=rules,
            host=host,
            workers=workers or os.cpu_count() or 1,
            max_size=max_size * 1024 * 1024,
            indicators=iocs,
        )
        if as_json:
            print_json_lines([_finding_json(f) for f in job.findings])
        else:
            _print_scan(dep.settings.lang, job)
        if job.findings:
            raise typer.Exit(EXIT_FOUND)


def _finding_json(f: Finding) -> dict[str, object]:
    return {
        "rule": f.rule,
        "severity": f.severity.label,
        "unit": f.unit,
        "subject": f.subject,
        "title": f.title,
        "evidence": f.evidence,
    }


def _print_scan(lang: str, job: ScanJob) -> None:
    report = job.report
    mb = report.bytes / 1e6
    rate = mb / job.seconds if job.seconds > 0 else 0.0
    _say(
        lang,
        "{files} files, {mb} MB in {seconds} s ({rate} MB/s)",
        files=report.files,
        mb=f"{mb:.1f}",
        seconds=f"{job.seconds:.1f}",
        rate=f"{rate:.1f}",
    )
    if job.compiled.from_cache:
        _say(lang, "{rules} rules, loaded from cache", rules=job.compiled.report.rules)
    else:
        _say(lang, "{rules} rules, compiled", rules=job.compiled.report.rules)
    if job.findings:
        table = Table(_("severity", lang), _("rule", lang), _("subject", lang))
        for f in sorted(job.findings, key=lambda f: (-f.severity, f.rule, f.subject)):
            table.add_row(_(f.severity.label, lang), escape(f.rule), escape(f.subject))
        console.print(table)
    for scan in report.errors:
        _say(lang, "not scanned: {path}: {reason}", path=scan.path, reason=scan.error)
    for scan in report.skipped:
        _say(lang, "skipped: {path}: {reason}", path=scan.path, reason=scan.skipped)
    if report.passed_over:
        _say(lang, "passed over (links, devices): {count}", count=sum(report.passed_over.values()))
    r = job.recorded
    _say(
        lang,
        "findings: {new} new, {updated} updated, {unchanged} unchanged",
        new=r.created,
        updated=r.updated,
        unchanged=r.unchanged,
    )


@yara_app.command("check")
@handle_errors
def yara_check(
    paths: Annotated[list[Path], typer.Argument(help="Rule files and folders.")],
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON.")] = False,
) -> None:
    """Compile rules and report every file that does not compile, with line and reason."""
    from vigil.monitor.detect.yara.rules import compile_rules

    lang = Settings().lang
    report = compile_rules(paths).report
    if as_json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        for error in report.errors:
            where = Location(error.location.source, error.location.line)
            _say(lang, "skipped {error}", error=f"{where}: {error.code} {error.message}")
        _say(
            lang,
            "{files} files, {rules} rules compiled, {skipped} files skipped, {warnings} warnings",
            files=report.files,
            rules=report.rules,
            skipped=len(report.skipped_files),
            warnings=report.warnings,
        )
    if report.errors:
        raise typer.Exit(EXIT_FOUND)


#: Kept next to the commands so that the catalog check sees every message they print.
MESSAGES = (
    "{files} files, {mb} MB in {seconds} s ({rate} MB/s)",
    "{rules} rules, compiled",
    "{rules} rules, loaded from cache",
    "not scanned: {path}: {reason}",
    "skipped: {path}: {reason}",
    "passed over (links, devices): {count}",
    "findings: {new} new, {updated} updated, {unchanged} unchanged",
    "skipped {error}",
    "{files} files, {rules} rules compiled, {skipped} files skipped, {warnings} warnings",
    "severity",
    "rule",
    "subject",
)
