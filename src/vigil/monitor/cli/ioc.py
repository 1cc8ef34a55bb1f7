"""`vigil ioc`: import indicators of compromise from feeds, list them, look a value up.

Output is in the deployment's language (VIGIL_LANG).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

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
from vigil.core.indicators import QUERY_FAMILIES
from vigil.store.indicators import indicator_dict, list_indicators, load_matcher

ioc_app = typer.Typer(help="Indicators of compromise: import, list, look up.", no_args_is_help=True)


def mount(app: typer.Typer) -> None:
    app.add_typer(ioc_app, name="ioc")


def _say(lang: str, message: str, **values: object) -> None:
    """One translated line; values are inserted after translation and never read as markup."""
    console.print(_(message, lang).format(**values), markup=False, highlight=False, soft_wrap=True)


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
    from vigil.monitor.detect.indicators.feeds import import_indicators

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
                    reason=problem.message,
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


#: Kept next to the commands so that the catalog check sees every message they print.
MESSAGES = (
    "{path} ({format}): {kinds}",
    "  quarantined {where}: {reason}",
    "  … and {count} more in the quarantine",
    "  left out: {reasons}",
    "indicators: {new} new, {updated} updated, {unchanged} unchanged",
    "{count} indicators",
    "{kind} {value} [{source}, confidence {confidence}] {description}",
    "{count} matching indicators",
    "kind",
    "value",
    "source",
    "confidence",
    "valid until",
    "description",
)
