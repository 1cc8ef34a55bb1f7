"""Pages of the alert queue and of one finding, and the triage buttons they carry."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigil.cases.alert_row import alert_row
from vigil.cases.api.filters import alert_filter
from vigil.cases.finding_view import FindingDetail, finding_detail, get_finding, personal_labels
from vigil.cases.pages.feedback import REFUSALS, refused
from vigil.cases.playbooks import load_playbooks, suggest_for
from vigil.cases.queue import AlertFilter, alert_queue
from vigil.cases.scope import lowest_common_unit, unit_tree
from vigil.cases.service import case_officers
from vigil.cases.triage import (
    PlaybookNeeded,
    acknowledge,
    escalate,
    mark_false_positive,
    merge_findings,
)
from vigil.core.access import Permission
from vigil.core.errors import ValidationError
from vigil.core.finding import FindingStatus
from vigil.core.i18n import _
from vigil.core.personal import mask_evidence, personal_fields
from vigil.core.severity import Severity
from vigil.plugins import capabilities, capability_labels
from vigil.store.personal import reveal_evidence
from vigil.web import session as web_session
from vigil.web.deps import DeploymentDep, PersonalViewer, Triager, Viewer, WebUser
from vigil.web.routes.pages_auth import safe_next
from vigil.web.schemas import RowId
from vigil.web.templating import render
from vigil.web.unit_tree import walk

router = APIRouter(include_in_schema=False)


def _page_url(request: Request, page: int) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "page" and v]
    return "/alerts?" + urlencode([*params, ("page", str(page))])


FindingIds = Annotated[list[RowId], Form(alias="finding_ids")]


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(
    request: Request,
    dep: DeploymentDep,
    user: Viewer,
    filt: Annotated[AlertFilter, Depends(alert_filter)],
) -> Response:
    labels = capability_labels()
    playbooks = load_playbooks()
    with dep.store.reader() as session:
        try:
            page = alert_queue(session, user.actor, dep.policy(), filt)
        except REFUSALS as e:  # a unit outside the officer's scope, an unknown status
            if not request.url.query:
                raise
            return refused(request, user.lang, e, "/alerts")
        return render(
            request,
            "alerts.html",
            {
                "page": page,
                "filt": filt,
                "units": [(u, d) for u, d in walk(dep.units) if u.code in user.actor.scope],
                "severities": [s.label for s in sorted(Severity, reverse=True)],
                "statuses": [s.value for s in FindingStatus],
                "capabilities": capabilities(),
                "playbooks": sorted(playbooks.values(), key=lambda p: p.key),
                "can_triage": user.actor.can(Permission.TRIAGE),
                "personal_ids": {row.id for row in page.items if personal_fields(row.evidence)},
                "rows": {row.id: alert_row(row, user.lang, labels) for row in page.items},
                # The playbook each alert would be escalated with, or None: then escalating it
                # alone asks for one (the officer sees which before ticking it).
                "suggested": {
                    row.id: playbooks[key] if (key := suggest_for([row], playbooks)) else None
                    for row in page.items
                },
                "page_url": lambda n: _page_url(request, n),
            },
        )


def _finding_html(
    request: Request, user: WebUser, detail: FindingDetail, revealed: dict[str, Any] | None
) -> Response:
    row = detail.finding
    return render(
        request,
        "finding.html",
        {
            "f": row,
            "evidence": mask_evidence(row.evidence) if revealed is None else revealed,
            "personal": personal_labels(row.evidence, user.lang),
            "revealed": revealed is not None,
            "can_reveal": user.actor.can(Permission.VIEW_PERSONAL),
            "merged": detail.merged,
            "playbooks": sorted(load_playbooks().values(), key=lambda p: p.key),
        },
    )


@router.get("/findings/{finding_id}", response_class=HTMLResponse)
def finding_page(request: Request, dep: DeploymentDep, user: Viewer, finding_id: RowId) -> Response:
    """Personal data masked; not audited, so the log keeps only views that showed someone's data."""
    with dep.store.reader() as session:
        return _finding_html(request, user, finding_detail(session, user.actor, finding_id), None)


@router.post("/findings/{finding_id}/reveal", response_class=HTMLResponse)
def reveal_submit(
    request: Request, dep: DeploymentDep, user: PersonalViewer, finding_id: RowId
) -> Response:
    """The page again with personal data shown, answered to the POST itself: the reveal lives in
    this one response (never cached, see headers.py), not in the session or a URL to share."""
    with dep.store.session() as session:
        detail = finding_detail(session, user.actor, finding_id)
        revealed = reveal_evidence(session, user.actor, detail.finding, channel="web")
        return _finding_html(request, user, detail, revealed)


@router.get("/findings/{finding_id}/reveal")
def reveal_link(finding_id: RowId) -> Response:
    """A reveal is a POST; a link, a reload or the language switch that lands here gets the
    masked page."""
    return RedirectResponse(f"/findings/{finding_id}", status_code=303)


@router.post("/findings/{finding_id}/ack")
def ack_submit(
    request: Request,
    dep: DeploymentDep,
    user: Triager,
    finding_id: RowId,
    note: Annotated[str, Form(max_length=2000)] = "",
    next: Annotated[str, Form()] = "/alerts",
) -> Response:
    try:
        with dep.store.session() as session:
            acknowledge(session, user.actor, finding_id, note)
    except REFUSALS as e:
        return refused(request, user.lang, e, next)
    web_session.flash(
        request, "ok", _("Alert #%(id)s acknowledged.", user.lang) % {"id": finding_id}
    )
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/findings/{finding_id}/false-positive")
def false_positive_submit(
    request: Request,
    dep: DeploymentDep,
    user: Triager,
    finding_id: RowId,
    reason: Annotated[str, Form(max_length=2000)] = "",
    next: Annotated[str, Form()] = "/alerts",
) -> Response:
    try:
        with dep.store.session() as session:
            mark_false_positive(session, user.actor, finding_id, reason)
    except REFUSALS as e:
        return refused(request, user.lang, e, next)
    web_session.flash(
        request,
        "ok",
        _("Alert #%(id)s marked as a false positive.", user.lang) % {"id": finding_id},
    )
    return RedirectResponse(safe_next(next), status_code=303)


def _escalate_url(finding_ids: list[int], title: str) -> str:
    query = [("finding_ids", str(i)) for i in finding_ids]
    return "/alerts/escalate?" + urlencode([*query, *([("title", title)] if title else [])])


@router.get("/alerts/escalate", response_class=HTMLResponse)
def escalate_form(
    request: Request,
    dep: DeploymentDep,
    user: Triager,
    finding_ids: Annotated[list[RowId], Query(max_length=500)] = [],  # noqa: B006
    title: Annotated[str, Query(max_length=300)] = "",
) -> Response:
    """The escalation asked in full: the chosen alerts, a playbook to pick (required) and the
    owner from the unit's case officers. The queue sends the officer here when no playbook fits."""
    with dep.store.reader() as session:
        rows = [get_finding(session, user.actor, i) for i in dict.fromkeys(finding_ids)]
        unit = lowest_common_unit(unit_tree(session), (r.unit for r in rows)) if rows else None
        return render(
            request,
            "escalate.html",
            {
                "findings": rows,
                "rows": {r.id: alert_row(r, user.lang, capability_labels()) for r in rows},
                "title": title,
                "playbooks": sorted(load_playbooks().values(), key=lambda p: p.key),
                "officers": case_officers(session, unit) if unit else [],
            },
        )


@router.post("/alerts/escalate")
def escalate_submit(
    request: Request,
    dep: DeploymentDep,
    user: Triager,
    finding_ids: FindingIds,
    playbook: Annotated[str, Form(max_length=64)] = "",
    title: Annotated[str, Form(max_length=300)] = "",
    owner: Annotated[str, Form(max_length=64)] = "",
    next: Annotated[str, Form()] = "/alerts",
) -> Response:
    """Open the case; when no playbook fits and none was chosen, ask (escalate_form)."""
    try:
        with dep.store.session() as session:
            case = escalate(
                session,
                user.actor,
                finding_ids,
                dep.policy(),
                dep.now(),
                title=title.strip() or None,
                playbook=playbook or None,
                owner=owner or None,
            )
            case_id, number = case.id, case.number
    except PlaybookNeeded as e:
        return refused(request, user.lang, e, _escalate_url(finding_ids, title.strip()))
    except REFUSALS as e:
        return refused(request, user.lang, e, next)
    web_session.flash(request, "ok", _("Case %(number)s opened.", user.lang) % {"number": number})
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.post("/alerts/merge")
def merge_submit(
    request: Request,
    dep: DeploymentDep,
    user: Triager,
    finding_ids: FindingIds,
    next: Annotated[str, Form()] = "/alerts",
) -> Response:
    ids = sorted(set(finding_ids))
    try:
        if len(ids) < 2:
            raise ValidationError("Select at least two alerts to merge.")
        # The oldest finding survives: its id is the one people have already written down.
        with dep.store.session() as session:
            merge_findings(session, user.actor, ids[0], ids[1:])
    except REFUSALS as e:
        return refused(request, user.lang, e, next)
    web_session.flash(
        request,
        "ok",
        _("%(n)s alerts merged into #%(id)s.", user.lang) % {"n": len(ids) - 1, "id": ids[0]},
    )
    return RedirectResponse(safe_next(next), status_code=303)
