"""The dashboard: the situation heading, then every room's panels (see web/dashboard.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from vigil.web.dashboard import render_panels
from vigil.web.deps import DeploymentDep, Viewer
from vigil.web.templating import layout_context, render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, dep: DeploymentDep, user: Viewer) -> Response:
    panels = render_panels(request, user, layout_context(request), request.app.state.dashboard)
    return render(
        request,
        "dashboard.html",
        {"panels": panels, "now": dep.now(), "phase_ends": dep.policy().ends},
    )
