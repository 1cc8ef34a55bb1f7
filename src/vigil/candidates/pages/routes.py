"""The candidates' pages: the list with each status, and one candidate's mismatches side by
side (declared against recorded), personal data masked unless an officer reveals it (audited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigil.candidates.models import CandidateCheckRow
from vigil.candidates.review import (
    STATUSES,
    candidate_row,
    candidate_rows,
    reveal_candidates,
    shown_name,
    side_by_side,
    status_counts,
    status_counts_seen,
)
from vigil.core.access import Permission
from vigil.core.errors import NotFoundError
from vigil.plugins import DashboardPanel
from vigil.reports.download import ReportFormat, download
from vigil.web.deps import DeploymentDep, PersonalViewer, Viewer, WebUser, get_deployment
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/candidates", response_class=HTMLResponse)
def candidates_page(
    request: Request,
    dep: DeploymentDep,
    user: Viewer,
    status: Annotated[str, Query(max_length=16)] = "",
    unit: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    with dep.store.reader() as session:
        every = candidate_rows(session, user.actor)
    rows = [r for r in every if (not status or r.status == status) and (not unit or r.unit == unit)]
    units = sorted({r.unit for r in every})
    return render(
        request,
        "candidates_list.html",
        {
            "rows": [(r, shown_name(r, False)) for r in rows],
            "counts": status_counts(every),
            "statuses": STATUSES,
            "status": status,
            "unit": unit,
            "units": units,
        },
    )


def _detail(request: Request, user: WebUser, row: CandidateCheckRow, revealed: bool) -> Response:
    return render(
        request,
        "candidates_detail.html",
        {
            "row": row,
            "name": shown_name(row, revealed),
            "mismatches": side_by_side(row, revealed),
            "revealed": revealed,
            "can_reveal": user.actor.can(Permission.VIEW_PERSONAL),
        },
    )


def _found(row: CandidateCheckRow | None, candidate_id: str) -> CandidateCheckRow:
    if row is None:
        raise NotFoundError(f"no checked candidate {candidate_id!r} in your units")
    return row


@router.get("/candidates/{candidate_id}", response_class=HTMLResponse)
def candidate_page(
    request: Request, dep: DeploymentDep, user: Viewer, candidate_id: str
) -> Response:
    with dep.store.reader() as session:
        row = _found(candidate_row(session, user.actor, candidate_id), candidate_id)
        return _detail(request, user, row, False)


@router.post("/candidates/{candidate_id}/reveal", response_class=HTMLResponse)
def candidate_reveal(
    request: Request, dep: DeploymentDep, user: PersonalViewer, candidate_id: str
) -> Response:
    """The page again with personal data shown, in this one response; the read is audited."""
    with dep.store.session() as session:
        row = _found(candidate_row(session, user.actor, candidate_id), candidate_id)
        reveal_candidates(session, user.actor, [row], channel="web")
        return _detail(request, user, row, True)


@router.get("/candidates/{candidate_id}/reveal")
def candidate_reveal_link(candidate_id: str) -> Response:
    """A reveal is a POST; a link or a reload lands on the masked page."""
    return RedirectResponse(f"/candidates/{candidate_id}", status_code=303)


@router.post("/reports/candidates")
def download_report(
    dep: DeploymentDep,
    user: Viewer,
    fmt: Annotated[ReportFormat, Form(alias="format")] = "pdf",
    lang: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """The candidate check report as the user sees it (their units only), personal data masked."""
    from vigil.candidates.report import candidates_report

    return download(dep, user.actor, candidates_report(dep, user.actor, lang or user.lang), fmt)


def _dashboard(request: Request, user: WebUser) -> dict[str, object]:
    """The officer's candidates by status (their units only)."""
    dep = get_deployment(request)
    with dep.store.reader() as session:
        counts = status_counts_seen(session, user.actor)
    return {"candidate_counts": counts, "candidate_total": sum(counts.values())}


PANELS = (DashboardPanel("candidates.status", "candidates_dashboard.html", _dashboard, order=60),)
