"""`vigil infowatch`: ingest posts, check texts and domains on demand, facts, campaigns."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from vigil.clikit import DEFAULT_DATA, EXIT_FOUND, DataDir, console, handle_errors, open_deployment
from vigil.infowatch.cli.common import AsUser, Json, acting, progress_bar, read_queries

infowatch_app = typer.Typer(
    help="Public information watch: posts, scams, lookalike domains, false claims, campaigns.",
    no_args_is_help=True,
)
facts_app = typer.Typer(
    help="The fact sheet: official facts and false claims.", no_args_is_help=True
)
infowatch_app.add_typer(facts_app, name="facts")


def mount(app: typer.Typer) -> None:
    app.add_typer(infowatch_app, name="infowatch")


@infowatch_app.command("ingest")
@handle_errors
def ingest(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Files or folders: JSON lines, CSV, RSS/Atom, reported messages."),
    ],
    data: DataDir = DEFAULT_DATA,
) -> None:
    """Read posts into the lake; a file already read adds nothing; bad records to quarantine."""
    from vigil.infowatch.ingest.pipeline import ingest_paths

    with open_deployment(data) as dep, progress_bar() as bar:
        task = bar.add_task("ingest", total=None)
        result = ingest_paths(
            dep, paths, lambda done, total: bar.update(task, completed=done, total=total)
        )
    for f in result.files:
        state = (
            "already in the lake" if f.skipped else f"{f.rows} posts, {f.quarantined} quarantined"
        )
        console.print(f"{escape(f.path)} [{f.source or '-'}]: {state}", highlight=False)
    console.print(
        f"{result.rows} posts, {result.quarantined} quarantined, {result.skipped} files skipped",
        highlight=False,
    )


@infowatch_app.command("check")
@handle_errors
def check(
    text: Annotated[str | None, typer.Argument(help="A text to check (else --file).")] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help='JSON lines of {"id", "text"}.')
    ] = None,
    json_out: Json = False,
    data: DataDir = DEFAULT_DATA,
) -> None:
    """Scam, lookalike links and false claims on texts given, without storing them."""
    from vigil.infowatch.detect.context import watch_context

    if (text is None) == (file is None):
        raise typer.BadParameter("give a TEXT or --file, not both")
    items = (
        [("1", text)]
        if text is not None
        else [
            (str(item.get("id", number)), item["text"])
            for number, item in read_queries(file)  # type: ignore[arg-type]
        ]
    )
    with open_deployment(data) as dep:
        checker = watch_context(dep).content
    flagged = 0
    for item_id, body in items:
        verdicts = checker.check(body).verdicts()
        flagged += bool(verdicts)
        if json_out:
            typer.echo(json.dumps({"id": item_id, "verdicts": verdicts}, ensure_ascii=False))
            continue
        console.print(
            f"[bold]{escape(item_id)}[/bold]: {'flagged' if verdicts else 'nothing found'}"
        )
        for v in verdicts:
            console.print(f"  {v['rule']} {v['score']}: {escape(v['reason'])}", highlight=False)
    if flagged and not json_out:
        raise typer.Exit(EXIT_FOUND)


@infowatch_app.command("domains")
@handle_errors
def domains(
    file: Annotated[Path, typer.Argument(help="One domain or URL a line.")],
    json_out: Json = False,
    data: DataDir = DEFAULT_DATA,
) -> None:
    """Which domains imitate a watchlisted one, and how."""
    from vigil.infowatch.detect.context import watch_context
    from vigil.infowatch.text import decode_bytes

    with open_deployment(data) as dep:
        matcher = watch_context(dep, with_claims=False).content.lookalike
    text, _ = decode_bytes(file.read_bytes())
    table = Table("input", "domain", "lookalike of", "technique", "score")
    for line in text.splitlines():
        if not line.strip():
            continue
        value = line.strip()
        verdict = matcher.check(value)
        from vigil.infowatch.links import parse_link

        link = parse_link(value)
        row = {
            "input": value,
            "domain": verdict.domain if verdict else (link.domain if link else None),
            "lookalike_of": verdict.lookalike_of if verdict else None,
            "technique": verdict.technique if verdict else None,
            "score": verdict.score if verdict else 0.0,
        }
        if json_out:
            typer.echo(json.dumps(row, ensure_ascii=False))
        else:
            table.add_row(*(escape(str(row[k] if row[k] is not None else "-")) for k in row))
    if not json_out:
        console.print(table)


@facts_app.command("import")
@handle_errors
def facts_import(
    file: Annotated[
        Path, typer.Argument(help='JSON lines of {"id", "text", "claims": [...], "lang"}.')
    ],
    data: DataDir = DEFAULT_DATA,
    as_user: AsUser = None,
) -> None:
    """Import the fact sheet; a fact already there is replaced."""
    from vigil.infowatch.facts import import_facts

    with acting(data, as_user) as (_dep, session, actor):
        result = import_facts(session, actor, file)
    for problem in result.problems:
        console.print(escape(str(problem)), style="yellow", highlight=False)
    console.print(
        f"{result.added} facts added, {result.replaced} replaced, {len(result.problems)} bad lines"
    )


@facts_app.command("match")
@handle_errors
def facts_match(
    file: Annotated[Path, typer.Argument(help='Queries: JSON lines of {"id", "text"}.')],
    top: Annotated[int, typer.Option("--top", min=1, max=100, help="Facts per query.")] = 5,
    json_out: Json = False,
    data: DataDir = DEFAULT_DATA,
) -> None:
    """The facts each query is about, best first."""
    from vigil.infowatch.errors import InfowatchError
    from vigil.infowatch.facts import claim_matcher, load_facts

    with open_deployment(data) as dep, dep.store.reader() as session:
        matcher = claim_matcher(load_facts(session))
    if matcher is None:
        raise InfowatchError("the fact sheet is empty: run 'vigil infowatch facts import FILE'")
    for number, item in read_queries(file):
        matches = [{"fact_id": f, "score": s} for f, s in matcher.match(item["text"], top)]
        query_id = item.get("id", number)
        if json_out:
            typer.echo(json.dumps({"id": query_id, "matches": matches}, ensure_ascii=False))
        else:
            shown = ", ".join(f"{m['fact_id']} ({m['score']})" for m in matches) or "-"
            console.print(f"{escape(str(query_id))}: {escape(shown)}", highlight=False)


@infowatch_app.command("campaigns")
@handle_errors
def campaigns(json_out: Json = False, data: DataDir = DEFAULT_DATA) -> None:
    """Coordinated campaigns in the stored posts: their accounts and posts."""
    from vigil.infowatch.detect.behaviour import find_campaigns, recent_rows
    from vigil.infowatch.detect.posts import batch_paths

    with open_deployment(data) as dep:
        found = find_campaigns(recent_rows(dep, batch_paths(dep)))
    for c in found:
        if json_out:
            row = c.as_dict()
            typer.echo(
                json.dumps(
                    {k: row[k] for k in ("id", "accounts", "posts", "start", "end", "signals")},
                    ensure_ascii=False,
                )
            )
        else:
            console.print(
                f"{c.id}: {len(c.accounts)} accounts, {len(c.posts)} posts, "
                f"{c.start:%Y-%m-%d %H:%M}–{c.end:%H:%M} UTC, {c.signals}",
                highlight=False,
            )


advisory_app = typer.Typer(
    help="Advisories: write, approve (a second officer), publish.", no_args_is_help=True
)
infowatch_app.add_typer(advisory_app, name="advisory")


@advisory_app.command("new")
@handle_errors
def advisory_new(
    title_vi: Annotated[str, typer.Option("--title-vi", help="Title in Vietnamese.")],
    title_en: Annotated[str, typer.Option("--title-en", help="Title in English.")],
    body_vi: Annotated[str, typer.Option("--body-vi", help="Text in Vietnamese.")],
    body_en: Annotated[str, typer.Option("--body-en", help="Text in English.")],
    kind: Annotated[str, typer.Option(help="warning or information.")] = "warning",
    finding: Annotated[
        list[int] | None, typer.Option("--finding", help="A finding it answers (repeatable).")
    ] = None,
    data: DataDir = DEFAULT_DATA,
    as_user: AsUser = None,
) -> None:
    """Write a draft advisory; another officer approves it."""
    from vigil.infowatch.advisories.service import AdvisoryDraft, create_advisory

    draft = AdvisoryDraft(kind, title_vi, title_en, body_vi, body_en, tuple(finding or ()))
    with acting(data, as_user) as (dep, session, actor):
        unit = actor.unit if actor.unit in dep.units else dep.units.root.code
        advisory = create_advisory(session, actor, draft, unit=unit, now=dep.now())
        console.print(f"advisory {advisory.id}: draft by {escape(actor.username)}", highlight=False)


@advisory_app.command("approve")
@handle_errors
def advisory_approve(
    advisory_id: Annotated[int, typer.Argument(help="The advisory to approve and publish.")],
    data: DataDir = DEFAULT_DATA,
    as_user: AsUser = None,
) -> None:
    """Approve a draft (not its author) and publish it: public site, Atom feed, PDF notice."""
    from vigil.infowatch.advisories.publish import public_dir, publish_site
    from vigil.infowatch.advisories.service import approve_advisory

    with acting(data, as_user) as (dep, session, actor):
        approve_advisory(session, actor, advisory_id, now=dep.now())
    with open_deployment(data) as dep:
        publish_site(dep)
        console.print(f"advisory {advisory_id} published in {public_dir(dep)}", highlight=False)


@advisory_app.command("list")
@handle_errors
def advisory_list(
    json_out: Json = False, data: DataDir = DEFAULT_DATA, as_user: AsUser = None
) -> None:
    """Every advisory with its status, author and approver."""
    from vigil.infowatch.advisories.service import list_advisories

    with acting(data, as_user) as (_dep, session, actor):
        rows = [
            {
                "id": a.id,
                "kind": a.kind,
                "status": a.status,
                "title_vi": a.title_vi,
                "title_en": a.title_en,
                "author": a.author,
                "approver": a.approver,
                "findings": a.finding_ids,
                "published_at": a.published_at.isoformat() if a.published_at else None,
            }
            for a in list_advisories(session, actor)
        ]
    for row in rows:
        if json_out:
            typer.echo(json.dumps(row, ensure_ascii=False))
        else:
            console.print(
                f"{row['id']} [{row['status']}] {escape(str(row['title_en']))} "
                f"(by {row['author']}, approved by {row['approver'] or '-'})",
                highlight=False,
            )
