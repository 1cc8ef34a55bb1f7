"""Cases and the duty roster over the JSON API."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from vigil.cases.api.schemas import (
    AssignIn,
    CaseDetailOut,
    CaseOut,
    CloseIn,
    EscalateIn,
    EventOut,
    FindingOut,
    GapOut,
    NotApplicableIn,
    NoteIn,
    ShiftIn,
    ShiftOut,
    StepDoneIn,
    StepOut,
)
from vigil.cases.duty import add_shift, coverage_gaps, roster
from vigil.cases.service import (
    add_case_note,
    assign_case,
    case_findings,
    case_steps,
    case_timeline,
    close_case,
    complete_step,
    get_case,
    list_cases,
    mark_step_not_applicable,
)
from vigil.cases.triage import escalate
from vigil.core.access import Permission
from vigil.core.clock import to_utc
from vigil.core.errors import ValidationError
from vigil.web.deps import CaseManager, DeploymentDep, DutyManager, Triager, Viewer
from vigil.web.schemas import ERROR_RESPONSES, RowId

router = APIRouter(prefix="/api", tags=["cases"], responses=ERROR_RESPONSES)
DEFAULT_WINDOW = timedelta(days=7)
MAX_WINDOW = timedelta(days=62)


@router.post(
    "/cases", summary="Escalate findings to a case", response_model=CaseOut, status_code=201
)
def api_escalate(dep: DeploymentDep, user: Triager, body: EscalateIn) -> CaseOut:
    """Escalate findings into a new case; due time from the phase, playbook suggested if absent."""
    now = dep.now()
    with dep.store.session() as session:
        case = escalate(
            session,
            user.actor,
            body.finding_ids,
            dep.policy(),
            now,
            title=body.title,
            playbook=body.playbook,
            owner=body.owner,
        )
        return CaseOut.of(case, now)


@router.get("/cases", summary="List cases", response_model=list[CaseOut])
def api_cases(
    dep: DeploymentDep,
    user: Viewer,
    status: Annotated[
        str | None,
        Query(max_length=16, description="open, in_progress, closed, or active (not closed)."),
    ] = None,
    overdue: Annotated[bool, Query(description="Only cases past their due time.")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[CaseOut]:
    now = dep.now()
    with dep.store.reader() as session:
        cases = list_cases(session, user.actor, status, now if overdue else None, limit)
        return [CaseOut.of(c, now) for c in cases]


@router.get("/cases/{case_id}", summary="Read a case", response_model=CaseDetailOut)
def api_case(dep: DeploymentDep, user: Viewer, case_id: RowId) -> CaseDetailOut:
    """A case with its playbook steps, its timeline and its findings."""
    with dep.store.reader() as session:
        case = get_case(session, user.actor, case_id)
        return CaseDetailOut(
            case=CaseOut.of(case, dep.now()),
            steps=[StepOut.model_validate(s) for s in case_steps(session, user.actor, case_id)],
            timeline=[
                EventOut.model_validate(e) for e in case_timeline(session, user.actor, case_id)
            ],
            findings=[FindingOut.of(f) for f in case_findings(session, user.actor, case_id)],
        )


@router.post(
    "/cases/{case_id}/steps/{position}/done",
    summary="Complete a playbook step",
    response_model=StepOut,
)
def api_step_done(
    dep: DeploymentDep,
    user: CaseManager,
    case_id: RowId,
    position: RowId,
    body: StepDoneIn | None = None,
) -> StepOut:
    with dep.store.session() as session:
        step = complete_step(
            session, user.actor, case_id, position, body.note if body else "", dep.now()
        )
        return StepOut.model_validate(step)


@router.post(
    "/cases/{case_id}/steps/{position}/not-applicable",
    summary="Mark a playbook step not applicable, with the reason",
    response_model=StepOut,
)
def api_step_not_applicable(
    dep: DeploymentDep, user: CaseManager, case_id: RowId, position: RowId, body: NotApplicableIn
) -> StepOut:
    with dep.store.session() as session:
        step = mark_step_not_applicable(
            session, user.actor, case_id, position, body.reason, dep.now()
        )
        return StepOut.model_validate(step)


@router.post(
    "/cases/{case_id}/notes",
    summary="Add a note to a case",
    response_model=EventOut,
    status_code=201,
)
def api_note(dep: DeploymentDep, user: CaseManager, case_id: RowId, body: NoteIn) -> EventOut:
    with dep.store.session() as session:
        return EventOut.model_validate(
            add_case_note(session, user.actor, case_id, body.text, dep.now())
        )


@router.post("/cases/{case_id}/assign", summary="Assign a case", response_model=CaseOut)
def api_assign(dep: DeploymentDep, user: CaseManager, case_id: RowId, body: AssignIn) -> CaseOut:
    now = dep.now()
    with dep.store.session() as session:
        return CaseOut.of(assign_case(session, user.actor, case_id, body.owner, now), now)


@router.post("/cases/{case_id}/close", summary="Close a case", response_model=CaseOut)
def api_close(dep: DeploymentDep, user: CaseManager, case_id: RowId, body: CloseIn) -> CaseOut:
    """Close with a summary; the case's findings become resolved. Refused (409) while a playbook
    step is open: each must be done or marked not applicable with a reason."""
    now = dep.now()
    with dep.store.session() as session:
        return CaseOut.of(close_case(session, user.actor, case_id, body.summary, now), now)


def _window(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    start = to_utc(start) if start else now
    end = to_utc(end) if end else start + DEFAULT_WINDOW
    if end <= start or end - start > MAX_WINDOW:
        raise ValidationError(
            f"the window must end after it starts and span at most {MAX_WINDOW.days} days"
        )
    return start, end


@router.get("/duty/roster", summary="Duty roster", response_model=list[ShiftOut])
def api_roster(
    dep: DeploymentDep,
    user: Viewer,
    start: Annotated[datetime | None, Query(description="Default: now.")] = None,
    end: Annotated[datetime | None, Query(description="Default: start + 7 days.")] = None,
    unit: Annotated[str | None, Query(max_length=32)] = None,
) -> list[ShiftOut]:
    """Shifts overlapping the window, in the caller's units."""
    lo, hi = _window(start, end, dep.now())
    with dep.store.reader() as session:
        return [ShiftOut.model_validate(s) for s in roster(session, user.actor, lo, hi, unit)]


@router.get("/duty/gaps", summary="Gaps in duty coverage", response_model=list[GapOut])
def api_gaps(
    dep: DeploymentDep,
    user: Viewer,
    unit: Annotated[
        str | None, Query(max_length=32, description="Default: the caller's unit.")
    ] = None,
    start: Annotated[datetime | None, Query(description="Default: now.")] = None,
    end: Annotated[datetime | None, Query(description="Default: start + 7 days.")] = None,
) -> list[GapOut]:
    """Stretches of the window when nobody is on shift for the unit."""
    lo, hi = _window(start, end, dep.now())
    code = unit or user.actor.unit
    user.actor.require(Permission.VIEW)
    user.actor.require_unit(code)
    with dep.store.reader() as session:
        return [GapOut.of(g) for g in coverage_gaps(session, lo, hi, code)]


@router.post("/duty/shifts", summary="Add a duty shift", response_model=ShiftOut, status_code=201)
def api_add_shift(dep: DeploymentDep, user: DutyManager, body: ShiftIn) -> ShiftOut:
    with dep.store.session() as session:
        shift = add_shift(
            session,
            user.actor,
            body.unit,
            body.username,
            body.starts,
            body.ends,
            body.role_on_shift,
        )
        return ShiftOut.model_validate(shift)
