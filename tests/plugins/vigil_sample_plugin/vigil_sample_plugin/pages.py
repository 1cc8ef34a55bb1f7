"""The sample room's page: the notes, behind the login like every page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from vigil.web.deps import DeploymentDep, Viewer
from vigil.web.templating import render
from vigil_sample_plugin.models import sample_notes

router = APIRouter(include_in_schema=False)


@router.get("/sample", response_class=HTMLResponse)
def notes_page(request: Request, dep: DeploymentDep, user: Viewer) -> Response:
    with dep.store.reader() as session:
        notes = list(session.scalars(select(sample_notes.c.text).order_by(sample_notes.c.id)))
    return render(request, "sample_notes.html", {"notes": notes})
