"""The duty roster page: shifts of the coming days, holes in coverage, and adding a shift."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigil.cases.duty import add_shift, coverage_gaps, roster
from vigil.cases.models import ShiftRole
from vigil.cases.pages.feedback import REFUSALS, refused
from vigil.core.access import Permission
from vigil.core.clock import local_day_bounds, parse_local_time, to_local
from vigil.core.i18n import _
from vigil.web import session as web_session
from vigil.web.deps import DeploymentDep, DutyManager, Viewer
from vigil.web.templating import render
from vigil.web.unit_tree import walk

router = APIRouter(include_in_schema=False)


@router.get("/duty", response_class=HTMLResponse)
def duty_page(
    request: Request,
    dep: DeploymentDep,
    user: Viewer,
    unit: Annotated[str, Query(max_length=32)] = "",
    days: Annotated[int, Query(ge=1, le=31)] = 7,
) -> Response:
    actor = user.actor
    code = unit or actor.unit
    actor.require_unit(code)
    today = to_local(dep.now()).date()
    day_starts = [
        (
            today + timedelta(days=i),
            local_day_bounds(today + timedelta(days=i))[0],
        )
        for i in range(days + 1)
    ]
    start, end = day_starts[0][1], day_starts[-1][1]
    with dep.store.reader() as session:
        shifts = roster(session, actor, start, end, code)
        gaps = coverage_gaps(session, start, end, code)
        # The chart engine brings matplotlib with it: imported when the page is asked for.
        from vigil.cases.charts import duty_coverage

        chart = duty_coverage(day_starts[:-1], [(g.start, g.end) for g in gaps], user.lang)
        return render(
            request,
            "duty.html",
            {
                "unit": code,
                "days": days,
                "shifts": shifts,
                "gaps": gaps,
                "chart": chart,
                "units": [(u, d) for u, d in walk(dep.units) if u.code in actor.scope],
                "roles": [r.value for r in ShiftRole],
                "can_manage": actor.can(Permission.MANAGE_DUTY),
                "default_start": f"{today.isoformat()}T07:00",
                "default_end": f"{today.isoformat()}T19:00",
            },
        )


@router.post("/duty/shifts")
def shift_submit(
    request: Request,
    dep: DeploymentDep,
    user: DutyManager,
    unit: Annotated[str, Form(max_length=32)] = "",
    username: Annotated[str, Form(max_length=64)] = "",
    starts: Annotated[str, Form(max_length=32)] = "",
    ends: Annotated[str, Form(max_length=32)] = "",
    role_on_shift: Annotated[str, Form(max_length=16)] = "officer",
) -> Response:
    back = "/duty?" + urlencode({"unit": unit})
    try:
        lo, hi = parse_local_time(starts, "starts"), parse_local_time(ends, "ends")
        with dep.store.session() as session:
            add_shift(session, user.actor, unit, username.strip(), lo, hi, role_on_shift)
    except REFUSALS as e:  # a typo in a time, a clash: said on the roster page
        return refused(request, user.lang, e, back)
    web_session.flash(request, "ok", _("Shift added for %(name)s.", user.lang) % {"name": username})
    return RedirectResponse(back, status_code=303)
