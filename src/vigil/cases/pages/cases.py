"""Pages of the case list and of one case: steps, timeline, findings, notes, owner, closing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from vigil.cases.alert_row import alert_row
from vigil.cases.models import CaseStatus
from vigil.cases.pages.feedback import REFUSALS, refused
from vigil.cases.playbooks import load_playbooks
from vigil.cases.service import (
    add_case_note,
    assign_case,
    case_findings,
    case_officers,
    case_steps,
    case_timeline,
    close_case,
    complete_step,
    get_case,
    list_cases,
    mark_step_not_applicable,
    set_case_status,
)
from vigil.core.access import Permission
from vigil.core.i18n import _
from vigil.deployment import Deployment
from vigil.plugins import capability_labels
from vigil.web import session as web_session
from vigil.web.deps import CaseManager, DeploymentDep, Viewer, WebUser
from vigil.web.schemas import RowId
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)

#: The list's status choices: "active" is every status but closed, "" is all.
STATUS_CHOICES = ("active", *(s.value for s in CaseStatus), "")


def _back(case_id: RowId) -> RedirectResponse:
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


def _on_case(
    request: Request,
    dep: Deployment,
    user: WebUser,
    case_id: RowId,
    act: Callable[[Session], object],
    done: str,
) -> Response:
    """Run `act` on the case in one transaction: back to the case page with `done` flashed, or
    with the refusal said in the officer's language inside that page (never in place of it)."""
    try:
        with dep.store.session() as session:
            act(session)
    except REFUSALS as e:
        return refused(request, user.lang, e, f"/cases/{case_id}")
    web_session.flash(request, "ok", done)
    return _back(case_id)


@router.get("/cases", response_class=HTMLResponse)
def cases_page(
    request: Request,
    dep: DeploymentDep,
    user: Viewer,
    status: Annotated[str, Query(max_length=16)] = "active",
    overdue: Annotated[bool, Query()] = False,
) -> Response:
    now = dep.now()
    with dep.store.reader() as session:
        try:
            cases = list_cases(session, user.actor, status or None, now if overdue else None, 500)
        except REFUSALS as e:  # an unknown status typed in the address
            return refused(request, user.lang, e, "/cases")
        return render(
            request,
            "cases.html",
            {
                "cases": cases,
                "status": status,
                "overdue": overdue,
                "choices": STATUS_CHOICES,
                "now": now,
            },
        )


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, dep: DeploymentDep, user: Viewer, case_id: RowId) -> Response:
    actor = user.actor
    with dep.store.reader() as session:
        case = get_case(session, actor, case_id)
        steps = case_steps(session, actor, case_id)
        findings = case_findings(session, actor, case_id)
        settled = {s.position for s in steps if s.settled}
        return render(
            request,
            "case.html",
            {
                "case": case,
                "steps": steps,
                "steps_done": sum(1 for s in steps if s.settled),
                "steps_open": [s.position for s in steps if not s.settled],
                # A step is waiting while a step it comes after is neither done nor not applicable.
                "waiting": {
                    s.position: [p for p in s.after or [] if p not in settled] for s in steps
                },
                "timeline": case_timeline(session, actor, case_id),
                "findings": findings,
                "rows": {f.id: alert_row(f, user.lang, capability_labels()) for f in findings},
                "playbook": load_playbooks().get(case.playbook) if case.playbook else None,
                "can_manage": actor.can(Permission.MANAGE_CASES),
                "officers": case_officers(session, case.unit),
                "now": dep.now(),
            },
        )


@router.post("/cases/{case_id}/steps/{position}/done")
def step_done_submit(
    request: Request,
    dep: DeploymentDep,
    user: CaseManager,
    case_id: RowId,
    position: RowId,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    return _on_case(
        request,
        dep,
        user,
        case_id,
        lambda session: complete_step(session, user.actor, case_id, position, note, dep.now()),
        _("Step %(n)s done.", user.lang) % {"n": position},
    )


@router.post("/cases/{case_id}/steps/{position}/not-applicable")
def step_not_applicable_submit(
    request: Request,
    dep: DeploymentDep,
    user: CaseManager,
    case_id: RowId,
    position: RowId,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    return _on_case(
        request,
        dep,
        user,
        case_id,
        lambda session: mark_step_not_applicable(
            session, user.actor, case_id, position, reason, dep.now()
        ),
        _("Step %(n)s marked not applicable.", user.lang) % {"n": position},
    )


@router.post("/cases/{case_id}/notes")
def note_submit(
    request: Request,
    dep: DeploymentDep,
    user: CaseManager,
    case_id: RowId,
    text: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    return _on_case(
        request,
        dep,
        user,
        case_id,
        lambda session: add_case_note(session, user.actor, case_id, text, dep.now()),
        _("Note added.", user.lang),
    )


@router.post("/cases/{case_id}/assign")
def assign_submit(
    request: Request,
    dep: DeploymentDep,
    user: CaseManager,
    case_id: RowId,
    owner: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    return _on_case(
        request,
        dep,
        user,
        case_id,
        lambda session: assign_case(session, user.actor, case_id, owner, dep.now()),
        _("Case assigned to %(owner)s.", user.lang) % {"owner": owner},
    )


@router.post("/cases/{case_id}/status")
def status_submit(
    request: Request,
    dep: DeploymentDep,
    user: CaseManager,
    case_id: RowId,
    status: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    return _on_case(
        request,
        dep,
        user,
        case_id,
        lambda session: set_case_status(session, user.actor, case_id, status, dep.now()),
        _("Case status changed.", user.lang),
    )


@router.post("/cases/{case_id}/close")
def close_submit(
    request: Request,
    dep: DeploymentDep,
    user: CaseManager,
    case_id: RowId,
    summary: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    return _on_case(
        request,
        dep,
        user,
        case_id,
        lambda session: close_case(session, user.actor, case_id, summary, dep.now()),
        _("Case closed.", user.lang),
    )
