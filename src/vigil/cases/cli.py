"""`vigil alerts`, `vigil triage`, `vigil cases`, `vigil duty`: the duty room from a terminal.

Every command acts as the system actor, or as the officer named by --as (then that officer's
role and units apply). Times are read and shown in the province's time (UTC+7) unless they
carry an offset.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from vigil.cases.models import Case
from vigil.clikit import (
    DEFAULT_DATA,
    EXIT_FOUND,
    DataDir,
    console,
    handle_errors,
    open_deployment,
    print_json_lines,
)
from vigil.core.access import Actor
from vigil.core.clock import format_local, parse_local_time
from vigil.core.errors import ValidationError
from vigil.core.severity import Severity
from vigil.deployment import Deployment
from vigil.store.findings import finding_dict
from vigil.store.users import officer_actor

AsUser = Annotated[
    str | None,
    typer.Option("--as", help="Act as this officer (their role and units apply); default: system."),
]
Json = Annotated[bool, typer.Option("--json", help="One JSON object per line.")]

triage_app = typer.Typer(
    help="Triage alerts: acknowledge, false positive, merge.", no_args_is_help=True
)
cases_app = typer.Typer(
    help="Cases: open from alerts, assign, work the playbook, close.", no_args_is_help=True
)
duty_app = typer.Typer(
    help="The duty roster, coverage gaps and handover notes.", no_args_is_help=True
)


@contextmanager
def _acting(
    data: Path, as_user: str | None, write: bool = True
) -> Iterator[tuple[Deployment, Session, Actor]]:
    with open_deployment(data) as dep:
        opener = dep.store.session if write else dep.store.reader
        with opener() as session:
            actor = officer_actor(session, dep.units, as_user) if as_user else dep.system("cli")
            yield dep, session, actor


def _sev(value: int) -> str:
    return Severity(value).label


# --- vigil alerts ---------------------------------------------------------------------------------


def alerts(
    data: DataDir = DEFAULT_DATA,
    unit: Annotated[str | None, typer.Option(help="Only this unit and the units under it.")] = None,
    capability: Annotated[str | None, typer.Option(help="Only this capability.")] = None,
    severity: Annotated[
        str | None, typer.Option(help="At least this severity (never below the phase's threshold).")
    ] = None,
    status: Annotated[
        str | None, typer.Option(help="Only this status (default: new and acknowledged).")
    ] = None,
    limit: Annotated[int, typer.Option(help="Alerts per page.")] = 50,
    page: Annotated[int, typer.Option(help="Page number.")] = 1,
    as_json: Json = False,
    as_user: AsUser = None,
) -> None:
    """The alert queue: open findings at or above the current phase's threshold, worst first."""
    from vigil.cases.queue import AlertFilter, alert_queue

    with _acting(data, as_user, write=False) as (dep, session, actor):
        filt = AlertFilter(
            unit=unit,
            capability=capability,
            min_severity=Severity.parse(severity) if severity else None,
            status=status,
            page=page,
            per_page=limit,
        )
        result = alert_queue(session, actor, dep.policy(), filt)
        rows = [finding_dict(r) for r in result.items]
    if as_json:
        print_json_lines(rows)
        return
    table = Table(
        "id", "severity", "capability", "rule", "unit", "subject", "count", "status", "last seen"
    )
    for r in result.items:
        table.add_row(
            str(r.id),
            _sev(r.severity),
            r.capability,
            r.rule[:40],
            r.unit,
            r.subject[:40],
            str(r.count),
            r.status,
            format_local(r.last_seen),
        )
    console.print(table)
    console.print(
        f"phase {result.phase.value}, threshold {result.threshold.label}: "
        f"page {result.page} of {result.pages}, {result.total_label} alerts"
    )


# --- vigil triage ---------------------------------------------------------------------------------


@triage_app.command("ack")
@handle_errors
def triage_ack(
    finding: Annotated[int, typer.Argument(help="Finding id.")],
    note: Annotated[str, typer.Option(help="What you are doing about it.")] = "",
    data: DataDir = DEFAULT_DATA,
    as_user: AsUser = None,
) -> None:
    """Acknowledge an alert: it stays in the queue, marked as taken."""
    from vigil.cases.triage import acknowledge

    with _acting(data, as_user) as (dep, session, actor):
        acknowledge(session, actor, finding, note, now=dep.now())
    console.print(f"finding {finding} acknowledged")


@triage_app.command("fp")
@handle_errors
def triage_fp(
    finding: Annotated[int, typer.Argument(help="Finding id.")],
    reason: Annotated[str, typer.Option(help="Why it is not a real problem (required).")],
    data: DataDir = DEFAULT_DATA,
    as_user: AsUser = None,
) -> None:
    """Mark an alert as a false positive; repeats of it stay suppressed."""
    from vigil.cases.triage import mark_false_positive

    with _acting(data, as_user) as (dep, session, actor):
        mark_false_positive(session, actor, finding, reason, now=dep.now())
    console.print(f"finding {finding} marked false positive")


@triage_app.command("merge")
@handle_errors
def triage_merge(
    target: Annotated[int, typer.Argument(help="Finding that stays.")],
    others: Annotated[list[int], typer.Argument(help="Findings folded into it.")],
    data: DataDir = DEFAULT_DATA,
    as_user: AsUser = None,
) -> None:
    """Fold duplicate alerts into one; their occurrences count once on the target."""
    from vigil.cases.triage import merge_findings

    with _acting(data, as_user) as (dep, session, actor):
        row = merge_findings(session, actor, target, others, now=dep.now())
        count = row.count
    console.print(f"merged {len(others)} into finding {target} (count {count})")


# --- vigil cases ----------------------------------------------------------------------------------


def _case_dict(case: Case) -> dict[str, Any]:
    return {
        "id": case.id,
        "number": case.number,
        "title": case.title,
        "unit": case.unit,
        "severity": _sev(case.severity),
        "status": case.status,
        "owner": case.owner,
        "playbook": case.playbook,
        "created_at": case.created_at.isoformat(),
        "due_at": case.due_at.isoformat(),
        "closed_at": case.closed_at.isoformat() if case.closed_at else None,
        "created_by": case.created_by,
        "summary": case.summary,
    }


@cases_app.command("list")
@handle_errors
def cases_list(
    data: DataDir = DEFAULT_DATA,
    status: Annotated[
        str | None, typer.Option(help="open, in_progress, closed, or active (all but closed).")
    ] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only cases past their due time.")
    ] = False,
    as_json: Json = False,
    as_user: AsUser = None,
) -> None:
    """Cases you may see: open ones first, worst and soonest due first."""
    from vigil.cases.service import list_cases

    with _acting(data, as_user, write=False) as (dep, session, actor):
        cases = list_cases(session, actor, status=status, overdue_at=dep.now() if overdue else None)
        rows = [_case_dict(c) for c in cases]
        now = dep.now()
    if as_json:
        print_json_lines(rows)
        return
    table = Table("number", "severity", "status", "unit", "owner", "due", "title")
    for c in cases:
        late = c.status != "closed" and c.due_at < now
        due = f"[red]{format_local(c.due_at)}[/red]" if late else format_local(c.due_at)
        table.add_row(
            c.number, _sev(c.severity), c.status, c.unit, c.owner or "", due, c.title[:60]
        )
    console.print(table)
    console.print(f"{len(rows)} cases")


@cases_app.command("show")
@handle_errors
def cases_show(
    case: Annotated[str, typer.Argument(help="Case number (VV-2026-0001) or id.")],
    data: DataDir = DEFAULT_DATA,
    as_json: Json = False,
    as_user: AsUser = None,
) -> None:
    """One case: its details, playbook steps, findings and timeline."""
    from vigil.cases.service import case_findings, case_steps, case_timeline, find_case

    with _acting(data, as_user, write=False) as (_dep, session, actor):
        row = find_case(session, actor, case)
        out = _case_dict(row)
        out["steps"] = [
            {
                "position": s.position,
                "title_en": s.title_en,
                "title_vi": s.title_vi,
                "done_by": s.done_by,
                "done_at": s.done_at.isoformat() if s.done_at else None,
                "note": s.note,
                "after": list(s.after or []),
                "not_applicable": s.not_applicable,
            }
            for s in case_steps(session, actor, row.id)
        ]
        out["findings"] = [finding_dict(f) for f in case_findings(session, actor, row.id)]
        out["timeline"] = [
            {
                "at": e.at.isoformat(),
                "actor": e.actor,
                "kind": e.kind,
                "text": e.text,
                "detail": e.detail,
            }
            for e in case_timeline(session, actor, row.id)
        ]
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False, default=str))
        return
    console.print(f"[bold]{out['number']}[/bold]  {out['title']}")
    console.print(
        f"severity {out['severity']} · status {out['status']} · unit {out['unit']} · "
        f"owner {out['owner'] or '-'} · playbook {out['playbook'] or '-'}"
    )
    console.print(
        f"opened {format_local(row.created_at)} by {out['created_by']}"
        f" · due {format_local(row.due_at)}"
        + (f" · closed {format_local(row.closed_at)}" if row.closed_at else "")
    )
    if out["summary"]:
        console.print(f"summary: {out['summary']}")
    steps = Table("#", "step", "after", "done by", "done at", "note", title="steps")
    for s in out["steps"]:
        done_at = format_local(datetime.fromisoformat(s["done_at"])) if s["done_at"] else ""
        note = f"not applicable: {s['not_applicable']}" if s["not_applicable"] else s["note"]
        after = ", ".join(map(str, s["after"]))
        steps.add_row(str(s["position"]), s["title_en"], after, s["done_by"] or "", done_at, note)
    console.print(steps)
    findings = Table(
        "id", "severity", "capability", "rule", "unit", "subject", "status", title="findings"
    )
    for f in out["findings"]:
        findings.add_row(
            str(f["id"]),
            f["severity"],
            f["capability"],
            f["rule"][:40],
            f["unit"],
            f["subject"][:40],
            f["status"],
        )
    console.print(findings)
    timeline = Table("at", "who", "what", "text", title="timeline")
    for e in out["timeline"]:
        timeline.add_row(
            format_local(datetime.fromisoformat(e["at"])), e["actor"], e["kind"], e["text"][:80]
        )
    console.print(timeline)


@cases_app.command("open")
@handle_errors
def cases_open(
    data: DataDir = DEFAULT_DATA,
    finding: Annotated[
        list[int] | None,
        typer.Option("--finding", help="Finding to escalate (repeat for several)."),
    ] = None,
    title: Annotated[
        str | None, typer.Option(help="Case title (default: the worst finding's).")
    ] = None,
    playbook: Annotated[str | None, typer.Option(help="Playbook key (default: suggested).")] = None,
    owner: Annotated[str | None, typer.Option(help="Officer who works the case.")] = None,
    unit: Annotated[
        str | None, typer.Option(help="Unit of a case opened without findings.")
    ] = None,
    severity: Annotated[
        str | None, typer.Option(help="Severity of a case opened without findings.")
    ] = None,
    as_user: AsUser = None,
) -> None:
    """Open a case: escalate findings (--finding ID ...), or by hand (--title --unit --severity)."""
    from vigil.cases.service import create_case
    from vigil.cases.triage import escalate

    with _acting(data, as_user) as (dep, session, actor):
        now = dep.now()
        if finding:
            if unit or severity:
                raise ValidationError("--unit and --severity are taken from the findings")
            case = escalate(session, actor, finding, dep.policy(now), now, title, playbook, owner)
        else:
            if not (title and unit and severity):
                raise ValidationError("give --finding, or --title, --unit and --severity")
            case = create_case(
                session, actor, title, unit, severity, dep.policy(now), now, playbook, owner
            )
        number, due, pb = case.number, case.due_at, case.playbook
    console.print(f"opened {number}, due {format_local(due)}, playbook {pb or '-'}")


@cases_app.command("assign")
@handle_errors
def cases_assign(
    case: Annotated[str, typer.Argument(help="Case number or id.")],
    owner: Annotated[str, typer.Argument(help="Username of the officer.")],
    data: DataDir = DEFAULT_DATA,
    as_user: AsUser = None,
) -> None:
    """Give a case to an officer."""
    from vigil.cases.service import assign_case, find_case

    with _acting(data, as_user) as (dep, session, actor):
        row = find_case(session, actor, case)
        assign_case(session, actor, row.id, owner, now=dep.now())
        number = row.number
    console.print(f"{number} assigned to {owner}")


@cases_app.command("step")
@handle_errors
def cases_step(
    case: Annotated[str, typer.Argument(help="Case number or id.")],
    position: Annotated[int, typer.Argument(help="Step number.")],
    note: Annotated[str, typer.Option(help="What was done.")] = "",
    not_applicable: Annotated[
        str | None,
        typer.Option(
            "--not-applicable",
            help="Mark the step not applicable to this case, with this reason, instead of done.",
        ),
    ] = None,
    data: DataDir = DEFAULT_DATA,
    as_user: AsUser = None,
) -> None:
    """Mark a playbook step done, or not applicable with a reason (a case closes only when every
    step is one or the other)."""
    from vigil.cases.service import complete_step, find_case, mark_step_not_applicable

    with _acting(data, as_user) as (dep, session, actor):
        row = find_case(session, actor, case)
        if not_applicable is not None:
            mark_step_not_applicable(session, actor, row.id, position, not_applicable, dep.now())
        else:
            complete_step(session, actor, row.id, position, note, now=dep.now())
        number = row.number
    what = "not applicable" if not_applicable is not None else "done"
    console.print(f"{number}: step {position} {what}")


@cases_app.command("note")
@handle_errors
def cases_note(
    case: Annotated[str, typer.Argument(help="Case number or id.")],
    text: Annotated[str, typer.Argument(help="The note.")],
    data: DataDir = DEFAULT_DATA,
    as_user: AsUser = None,
) -> None:
    """Add a note to a case's timeline."""
    from vigil.cases.service import add_case_note, find_case

    with _acting(data, as_user) as (dep, session, actor):
        row = find_case(session, actor, case)
        add_case_note(session, actor, row.id, text, now=dep.now())
        number = row.number
    console.print(f"{number}: note added")


@cases_app.command("status")
@handle_errors
def cases_status(
    case: Annotated[str, typer.Argument(help="Case number or id.")],
    status: Annotated[str, typer.Argument(help="open or in_progress (reopens a closed case).")],
    data: DataDir = DEFAULT_DATA,
    as_user: AsUser = None,
) -> None:
    """Set a case open or in progress, or reopen a closed one."""
    from vigil.cases.service import find_case, set_case_status

    with _acting(data, as_user) as (dep, session, actor):
        row = find_case(session, actor, case)
        set_case_status(session, actor, row.id, status, dep.now())
        number = row.number
    console.print(f"{number} is {status}")


@cases_app.command("close")
@handle_errors
def cases_close(
    case: Annotated[str, typer.Argument(help="Case number or id.")],
    summary: Annotated[str, typer.Option(help="What happened and what was done (required).")],
    data: DataDir = DEFAULT_DATA,
    as_user: AsUser = None,
) -> None:
    """Close a case with a summary; its findings become resolved."""
    from vigil.cases.service import close_case, find_case

    with _acting(data, as_user) as (dep, session, actor):
        row = find_case(session, actor, case)
        close_case(session, actor, row.id, summary, dep.now())
        number = row.number
    console.print(f"{number} closed")


@cases_app.command("playbooks")
@handle_errors
def cases_playbooks() -> None:
    """The playbooks a case can follow."""
    from vigil.cases.playbooks import load_playbooks

    table = Table("key", "severity", "steps", "title", "tiêu đề")
    table.columns[0].no_wrap = True
    for pb in load_playbooks().values():
        table.add_row(pb.key, pb.severity.label, str(len(pb.steps)), pb.title_en, pb.title_vi)
    console.print(table)


# --- vigil duty -----------------------------------------------------------------------------------


def _window(
    dep: Deployment, start: str | None, end: str | None, days: float
) -> tuple[datetime, datetime]:
    since = parse_local_time(start, "--start") if start else dep.now()
    until = parse_local_time(end, "--end") if end else since + timedelta(days=days)
    return since, until


@duty_app.command("add")
@handle_errors
def duty_add(
    username: Annotated[str, typer.Argument(help="Officer on shift.")],
    starts: Annotated[str, typer.Option(help="Start, e.g. '2026-03-14 07:00' (UTC+7).")],
    ends: Annotated[str, typer.Option(help="End, e.g. '2026-03-14 15:00' (UTC+7).")],
    unit: Annotated[
        str | None, typer.Option(help="Duty room's unit (default: the province).")
    ] = None,
    lead: Annotated[bool, typer.Option("--lead", help="The officer leads the shift.")] = False,
    data: DataDir = DEFAULT_DATA,
    as_user: AsUser = None,
) -> None:
    """Put an officer on the roster."""
    from vigil.cases.duty import add_shift

    with _acting(data, as_user) as (dep, session, actor):
        shift = add_shift(
            session,
            actor,
            unit or dep.units.root.code,
            username,
            parse_local_time(starts, "--starts"),
            parse_local_time(ends, "--ends"),
            "lead" if lead else "officer",
        )
        sid = shift.id
    console.print(f"shift {sid}: {username} {starts} → {ends}")


@duty_app.command("roster")
@handle_errors
def duty_roster(
    data: DataDir = DEFAULT_DATA,
    start: Annotated[str | None, typer.Option("--from", help="From (default: now).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="To (default: 7 days later).")] = None,
    unit: Annotated[str | None, typer.Option(help="Only this duty room.")] = None,
    as_user: AsUser = None,
) -> None:
    """Shifts in a window."""
    from vigil.cases.duty import roster

    with _acting(data, as_user, write=False) as (dep, session, actor):
        since, until = _window(dep, start, end, 7)
        shifts = roster(session, actor, since, until, unit)
        table = Table("id", "unit", "officer", "role", "starts", "ends")
        for s in shifts:
            table.add_row(
                str(s.id),
                s.unit,
                s.username,
                s.role_on_shift,
                format_local(s.starts),
                format_local(s.ends),
            )
    console.print(table)
    console.print(f"{len(shifts)} shifts")


@duty_app.command("gaps")
@handle_errors
def duty_gaps(
    data: DataDir = DEFAULT_DATA,
    start: Annotated[str | None, typer.Option("--from", help="From (default: now).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="To (default: 7 days later).")] = None,
    unit: Annotated[
        str | None, typer.Option(help="Duty room's unit (default: the province).")
    ] = None,
    as_user: AsUser = None,
) -> None:
    """Times nobody is on duty; exits with 3 when there is any."""
    from vigil.cases.duty import coverage_gaps

    with _acting(data, as_user, write=False) as (dep, session, actor):
        room = unit or dep.units.root.code
        actor.require_unit(room)
        since, until = _window(dep, start, end, 7)
        gaps = coverage_gaps(session, since, until, room)
    if not gaps:
        console.print(f"{room} is covered from {format_local(since)} to {format_local(until)}")
        return
    table = Table("from", "to", "hours")
    for g in gaps:
        table.add_row(format_local(g.start), format_local(g.end), f"{g.hours:g}")
    console.print(table)
    console.print(f"[red]{len(gaps)} gaps, {sum(g.hours for g in gaps):g} hours uncovered[/red]")
    raise typer.Exit(EXIT_FOUND)


@duty_app.command("handover-note")
@handle_errors
def duty_handover_note(
    text: Annotated[str, typer.Argument(help="What the next shift must know.")],
    shift: Annotated[int | None, typer.Option(help="Shift id the note belongs to.")] = None,
    data: DataDir = DEFAULT_DATA,
    as_user: AsUser = None,
) -> None:
    """Leave a note for the next shift's handover."""
    from vigil.cases.handover import add_handover_note

    with _acting(data, as_user) as (dep, session, actor):
        note = add_handover_note(session, actor, text, shift, now=dep.now())
        nid = note.id
    console.print(f"handover note {nid} saved")


def mount(app: typer.Typer) -> None:
    app.command("alerts")(handle_errors(alerts))
    app.add_typer(triage_app, name="triage")
    app.add_typer(cases_app, name="cases")
    app.add_typer(duty_app, name="duty")
