"""An edge of the inspection room: its web pages. The inspections (plan one, each unit's latest
scorecard), one inspection (scorecard, trend, the checklist form, closing), remediation
tracking (overdue first)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from vigil.core.access import Permission
from vigil.core.clock import parse_optional_time
from vigil.core.i18n import _
from vigil.inspect.controls.catalog import builtin_catalog
from vigil.inspect.models import Inspection
from vigil.inspect.workflow import inspections as wf
from vigil.web import session as web_session
from vigil.web.deps import DeploymentDep, Viewer, WebUser, require
from vigil.web.schemas import RowId
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)
Inspector = Annotated[WebUser, Depends(require(Permission.INSPECT))]
ANSWERS = ("pass", "partial", "fail", "na")


@router.get("/inspect", response_class=HTMLResponse)
def inspections_page(request: Request, dep: DeploymentDep, user: Viewer) -> Response:
    catalog = builtin_catalog()
    actor = user.actor
    with dep.store.reader() as session:
        rows = session.scalars(
            select(Inspection)
            .where(Inspection.unit.in_(actor.scope))
            .order_by(Inspection.planned_for.desc(), Inspection.id.desc())
            .limit(500)
        ).all()
        latest = {r.unit: r for r in wf.latest_closed(session, set(actor.scope))}
        cards = {u: wf.view_inspection(session, catalog, r) for u, r in latest.items()}
        return render(
            request,
            "inspect_list.html",
            {
                "inspections": rows,
                "cards": cards,
                "catalog": catalog,
                "units": [u for u in dep.units if u.code in actor.scope],
                "may_inspect": actor.can(Permission.INSPECT),
            },
        )


@router.post("/inspect/plan")
def plan_submit(
    request: Request,
    dep: DeploymentDep,
    user: Inspector,
    unit: Annotated[str, Form(max_length=32)],
    profile: Annotated[str, Form(max_length=64)],
    date: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    when = parse_optional_time(date, "date") or dep.now()
    with dep.store.session() as session:
        row = wf.plan_inspection(session, user.actor, builtin_catalog(), unit, profile, when)
        inspection_id = row.id
    web_session.flash(request, "ok", _("Inspection planned.", user.lang))
    return RedirectResponse(f"/inspect/{inspection_id}", status_code=303)


@router.get("/inspect/remediation", response_class=HTMLResponse)
def remediation_page(request: Request, dep: DeploymentDep, user: Viewer) -> Response:
    now = dep.now()
    catalog = builtin_catalog()
    with dep.store.reader() as session:
        items = wf.remediation_items(session, user.actor)
        rows = sorted(
            ((i, wf.overdue(i, now), catalog.controls.get(i.control)) for i in items),
            key=lambda t: (not t[1], t[0].due_at),
        )
        return render(
            request,
            "inspect_remediation.html",
            {"rows": rows, "may_inspect": user.actor.can(Permission.INSPECT)},
        )


@router.post("/inspect/remediation/{item_id}/done")
def remediation_done(
    request: Request,
    dep: DeploymentDep,
    user: Inspector,
    item_id: RowId,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    with dep.store.session() as session:
        wf.complete_remediation(session, user.actor, item_id, dep.now(), note)
    web_session.flash(request, "ok", _("Remediation recorded.", user.lang))
    return RedirectResponse("/inspect/remediation", status_code=303)


@router.get("/inspect/{inspection_id}", response_class=HTMLResponse)
def inspection_page(
    request: Request, dep: DeploymentDep, user: Viewer, inspection_id: RowId
) -> Response:
    catalog = builtin_catalog()
    with dep.store.reader() as session:
        row = wf.get_inspection(session, user.actor, inspection_id)
        view = wf.view_inspection(session, catalog, row)
        answers = wf.answers_of(session, row.id)
        return render(
            request,
            "inspect_inspection.html",
            {
                "inspection": row,
                "view": view,
                "answers": answers,
                "catalog": catalog,
                "controls": catalog.controls_of(catalog.profile(row.profile)),
                "choices": ANSWERS,
                "may_inspect": user.actor.can(Permission.INSPECT) and row.status == "planned",
            },
        )


@router.post("/inspect/{inspection_id}/answers")
async def answers_submit(
    request: Request, dep: DeploymentDep, user: Inspector, inspection_id: RowId
) -> Response:
    form = await request.form()
    catalog = builtin_catalog()
    changed = 0
    with dep.store.session() as session:
        row = wf.get_inspection(session, user.actor, inspection_id)
        current = wf.answers_of(session, row.id)
        for cid in catalog.profile(row.profile).controls:
            status = str(form.get(f"status-{cid}") or "")
            note = str(form.get(f"note-{cid}") or "")[:4000]
            before = current.get(cid)
            if status in ANSWERS and (
                before is None or (before.status, before.note) != (status, note)
            ):
                wf.record_answer(
                    session, user.actor, catalog, row.id, cid, status, note=note, now=dep.now()
                )
                changed += 1
    web_session.flash(request, "ok", _("%(n)s answers saved.", user.lang) % {"n": changed})
    return RedirectResponse(f"/inspect/{inspection_id}", status_code=303)


@router.post("/inspect/{inspection_id}/close")
def close_submit(
    request: Request,
    dep: DeploymentDep,
    user: Inspector,
    inspection_id: RowId,
    owner: Annotated[str, Form(max_length=120)] = "",
) -> Response:
    with dep.store.session() as session:
        items = wf.close_inspection(
            session, user.actor, builtin_catalog(), inspection_id, dep.now(), owner
        )
    web_session.flash(
        request,
        "ok",
        _("Inspection closed: %(n)s remediation items.", user.lang) % {"n": len(items)},
    )
    return RedirectResponse(f"/inspect/{inspection_id}", status_code=303)
