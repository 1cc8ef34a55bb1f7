"""`vigil yara` and `vigil ioc`: scan files with YARA rules, import and look up indicators.

Mounted by the monitor plugin (`mount(app)`); `detect_indicators` is the detector behind the
indicator part of `vigil detect`. Output is in the deployment's language (VIGIL_LANG).
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
from vigil.core.finding import Finding
from vigil.core.i18n import _
from vigil.core.indicators import QUERY_FAMILIES
from vigil.deployment import Deployment
from vigil.store.indicators import indicator_dict, list_indicators, load_matcher

if TYPE_CHECKING:
    from vigil.monitor.yara.run import ScanJob

yara_app = typer.Typer(help="YARA rules over files and folders.", no_args_is_help=True)
ioc_app = typer.Typer(help="Indicators of compromise: import, list, look up.", no_args_is_help=True)


def mount(app: typer.Typer) -> None:
    app.add_typer(yara_app, name="yara")
    app.add_typer(ioc_app, name="ioc")


def detect_indicators(deployment: Deployment) -> list[Finding]:
    """Indicator hits in monitor_events (the detector behind `vigil detect`)."""
    from vigil.monitor.indicator_match import match_lake

    with deployment.store.reader() as session:
        matcher = load_matcher(session)
    root = deployment.units.root.code
    return match_lake(deployment.lake, matcher, default_unit=root, at=deployment.now())


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
    from vigil.monitor.yara.run import run_scan

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
    from vigil.monitor.yara.rules import compile_rules

    lang = Settings().lang
    report = compile_rules(paths).report
    if as_json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        for error in report.errors:
            _say(lang, "skipped {error}", error=str(error))
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


@ioc_app.command("import")
@handle_errors
def ioc_import(
    files: Annotated[
        list[Path], typer.Argument(help="STIX bundles, MISP events, signature-base lists.")
    ],
    data: DataDir = DEFAULT_DATA,
    source: Annotated[
        str | None, typer.Option(help="Source name (default: from the feed).")
    ] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="stix, misp or sigbase (default: detect).")
    ] = None,
) -> None:
    """Import indicators; the same file again adds nothing, a changed one updates in place."""
    from vigil.monitor.indicators_import import import_indicators

    with open_deployment(data) as dep:
        lang = dep.settings.lang
        with dep.store.session() as session:
            reports, result = import_indicators(
                session, dep.system("cli"), files, fmt=fmt, source=source, quarantine=dep.quarantine
            )
        for report in reports:
            _say(
                lang,
                "{path} ({format}): {kinds}",
                path=report.path,
                format=report.format,
                kinds=report.kinds(),
            )
            for problem in report.problems[:20]:
                _say(
                    lang,
                    "  quarantined {where}: {reason}",
                    where=problem.location,
                    reason=problem.reason,
                )
            if len(report.problems) > 20:
                _say(
                    lang, "  … and {count} more in the quarantine", count=len(report.problems) - 20
                )
            if report.skipped:
                _say(lang, "  left out: {reasons}", reasons=dict(report.skipped))
        _say(
            lang,
            "indicators: {new} new, {updated} updated, {unchanged} unchanged",
            new=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
        )


@ioc_app.command("list")
@handle_errors
def ioc_list(
    data: DataDir = DEFAULT_DATA,
    kind: Annotated[
        str | None, typer.Option(help="Only this kind (ip, domain, sha256...).")
    ] = None,
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    active: Annotated[bool, typer.Option(help="Only indicators valid now.")] = False,
    limit: Annotated[int | None, typer.Option(help="At most this many.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List stored indicators."""
    with open_deployment(data) as dep:
        lang = dep.settings.lang
        with dep.store.reader() as session:
            rows = list_indicators(
                session,
                dep.system("cli"),
                kind=kind,
                source=source,
                active_at=dep.now() if active else None,
                limit=limit,
            )
            dicts = [indicator_dict(r) for r in rows]
        if as_json:
            print_json_lines(dicts)
            return
        headers = ("kind", "value", "source", "confidence", "valid until", "description")
        table = Table(*(_(h, lang) for h in headers))
        for d in dicts:
            table.add_row(
                d["kind"],
                escape(d["value"][:60]),
                escape(d["source"][:30]),
                str(d["confidence"]),
                d["valid_until"] or "",
                escape(d["description"][:40]),
            )
        console.print(table)
        _say(lang, "{count} indicators", count=len(dicts))


@ioc_app.command("match")
@handle_errors
def ioc_match(
    value: Annotated[
        str, typer.Argument(help="An address, domain, URL, e-mail, hash or file path.")
    ],
    data: DataDir = DEFAULT_DATA,
    family: Annotated[
        str | None, typer.Option("--as", help=f"Look up as: {', '.join(QUERY_FAMILIES)}.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Which indicators valid now cover VALUE (a.evil.com is covered by evil.com)."""
    with open_deployment(data) as dep:
        lang = dep.settings.lang
        with dep.store.reader() as session:
            matcher = load_matcher(session, active_at=dep.now())
        found = matcher.match(value, family, at=dep.now())
        if as_json:
            print_json_lines(
                [
                    {
                        "kind": i.kind.value,
                        "value": i.value,
                        "source": i.source,
                        "confidence": i.confidence,
                        "description": i.description,
                    }
                    for i in found
                ]
            )
        else:
            for i in found:
                _say(
                    lang,
                    "{kind} {value} [{source}, confidence {confidence}] {description}",
                    kind=i.kind.value,
                    value=i.value,
                    source=i.source,
                    confidence=i.confidence,
                    description=i.description,
                )
            _say(lang, "{count} matching indicators", count=len(found))
        if found:
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
    "{path} ({format}): {kinds}",
    "  quarantined {where}: {reason}",
    "  … and {count} more in the quarantine",
    "  left out: {reasons}",
    "indicators: {new} new, {updated} updated, {unchanged} unchanged",
    "{count} indicators",
    "{kind} {value} [{source}, confidence {confidence}] {description}",
    "{count} matching indicators",
    "severity",
    "rule",
    "subject",
    "kind",
    "value",
    "source",
    "confidence",
    "valid until",
    "description",
)
