"""The voter-list pages: each commune's latest list with its counts and changes, one list with
its polling areas, changes and masked rows, and the build and export actions.

Any officer of the commune reads the masked list; building needs MANAGE_DATA, unmasked rows and
unmasked exports need VIEW_PERSONAL (both POST forms with the CSRF token, both audited); a
commune outside the officer's units reads as not found.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.core.access import Actor, Permission
from vigil.core.errors import NotFoundError
from vigil.core.units import UnitKind
from vigil.deployment import Deployment
from vigil.plugins import DashboardPanel
from vigil.registry.voters.build import build_voter_list, latest_lists
from vigil.registry.voters.export import area_counts, export_list, find_list, read_list
from vigil.registry.voters.models import VoterList
from vigil.web.deps import (
    DeploymentDep,
    PersonalViewer,
    Viewer,
    WebUser,
    get_deployment,
    require,
)

router = APIRouter(include_in_schema=False)
DataOfficer = Annotated[WebUser, Depends(require(Permission.MANAGE_DATA))]
ROWS_SHOWN = 200
_MEDIA = {"csv": "text/csv; charset=utf-8", "pdf": "application/pdf"}


def _commune(dep: Deployment, actor: Actor, commune: str) -> str:
    """The commune if it is one the actor sees; anything else is not found, word for word."""
    units = dep.units
    if commune not in units or units.get(commune).kind != UnitKind.COMMUNE:
        raise NotFoundError(f"no voter list of {commune}")
    if not actor.sees(commune):
        raise NotFoundError(f"no voter list of {commune}")
    return commune


@router.get("/registry/voters", response_class=HTMLResponse)
def voters_page(request: Request, dep: DeploymentDep, user: Viewer) -> Response:
    from vigil.web.templating import render

    communes = sorted(
        u.code for u in dep.units.of_kind(UnitKind.COMMUNE) if user.actor.sees(u.code)
    )
    with dep.store.reader() as session:
        newest = {vl.commune: vl for vl in latest_lists(session, communes)}
        lists = {c: newest.get(c) for c in communes}
    return render(
        request,
        "registry_voters.html",
        {
            "lists": lists,
            "can_build": user.actor.can(Permission.MANAGE_DATA),
            "voting_day": _voting_day(dep),
        },
    )


def _voting_day(dep: Deployment) -> Any:
    from vigil.registry.voters.eligibility import voting_day

    return voting_day(dep)


@router.post("/registry/voters/build")
def build_submit(
    dep: DeploymentDep, user: DataOfficer, commune: Annotated[str, Form(max_length=32)]
) -> Response:
    _commune(dep, user.actor, commune)
    with dep.store.session() as session:
        build_voter_list(session, dep, user.actor, commune)
    return RedirectResponse(f"/registry/voters/{commune}", status_code=303)


def _list_html(
    request: Request, dep: Deployment, user: WebUser, session: Session, commune: str,
    version: int | None, area: str, reveal: bool,
) -> Response:  # fmt: skip
    from vigil.web.templating import render

    vl = find_list(session, user.actor, commune, version)
    view = read_list(session, user.actor, vl, reveal=reveal, area=area or None, limit=ROWS_SHOWN)
    versions = session.scalars(
        select(VoterList).where(VoterList.commune == commune).order_by(VoterList.version.desc())
    ).all()
    return render(
        request,
        "registry_voter_list.html",
        {
            "vl": vl, "commune": commune, "areas": area_counts(session, vl),
            "area": area, "rows": view.rows, "changes": view.changes,
            "revealed": view.revealed, "versions": versions, "shown": ROWS_SHOWN,
            "can_reveal": user.actor.can(Permission.VIEW_PERSONAL),
            "can_build": user.actor.can(Permission.MANAGE_DATA),
        },
    )  # fmt: skip


@router.get("/registry/voters/{commune}", response_class=HTMLResponse)
def list_page(
    request: Request,
    dep: DeploymentDep,
    user: Viewer,
    commune: str,
    version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
    area: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    _commune(dep, user.actor, commune)
    with dep.store.reader() as session:
        return _list_html(request, dep, user, session, commune, version, area, False)


@router.post("/registry/voters/{commune}/reveal", response_class=HTMLResponse)
def reveal_submit(
    request: Request,
    dep: DeploymentDep,
    user: PersonalViewer,
    commune: str,
    version: Annotated[int | None, Form(ge=1, le=1_000_000)] = None,
    area: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """The list again with the personal data shown, answered to the POST itself (audited)."""
    _commune(dep, user.actor, commune)
    with dep.store.session() as session:
        return _list_html(request, dep, user, session, commune, version, area, True)


def _download(
    dep: Deployment, user: WebUser, commune: str, fmt: str, version: int | None, reveal: bool,
    area: str,
) -> Response:  # fmt: skip
    _commune(dep, user.actor, commune)
    with dep.store.session() as session:
        body = export_list(
            dep, session, user.actor, commune, fmt, version=version, reveal=reveal,
            lang=user.lang, area=area or None,
        )  # fmt: skip
    suffix = (f"-v{version}" if version else "") + (f"-{area}" if area else "")
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", f"voters-{commune}{suffix}.{fmt}")
    return Response(
        body,
        media_type=_MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/registry/voters/{commune}/export")
def export_masked(
    dep: DeploymentDep,
    user: Viewer,
    commune: str,
    fmt: Annotated[str, Query(alias="format", pattern="^(csv|pdf)$")] = "csv",
    version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
    area: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The list (or one polling area) with personal data masked, as CSV or PDF (audited)."""
    return _download(dep, user, commune, fmt, version, False, area)


@router.post("/registry/voters/{commune}/export")
def export_unmasked(
    dep: DeploymentDep,
    user: PersonalViewer,
    commune: str,
    fmt: Annotated[str, Form(alias="format", pattern="^(csv|pdf)$")] = "csv",
    version: Annotated[int | None, Form(ge=1, le=1_000_000)] = None,
    area: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """The list unmasked: a personal-data view (VIEW_PERSONAL, audited)."""
    return _download(dep, user, commune, fmt, version, True, area)


def _dashboard(request: Request, user: WebUser) -> dict[str, object]:
    """The officer's communes: how many have a voter list, their voters and latest changes."""
    dep = get_deployment(request)
    visible = [u.code for u in dep.units.of_kind(UnitKind.COMMUNE) if user.actor.sees(u.code)]
    with dep.store.reader() as session:
        lists = latest_lists(session, visible)
    return {
        "voter_communes": len(visible),
        "voter_lists": len(lists),
        "voter_total": sum(vl.voters for vl in lists),
        "voter_added": sum(vl.added for vl in lists),
        "voter_removed": sum(vl.removed for vl in lists),
    }


PANELS = (
    DashboardPanel("registry.voters", "registry_voters_dashboard.html", _dashboard, order=62),
)
