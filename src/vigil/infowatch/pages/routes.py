"""The information watch's pages: post triage queue, campaigns (graph and timeline),
impersonation (official beside the lookalike), claims, advisories (editor, approval, history),
the watchlist; and the public advisories site, served without login."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy import select

from vigil.core.access import Permission
from vigil.core.errors import NotFoundError
from vigil.core.i18n import _
from vigil.infowatch.advisories.publish import public_dir, publish_site
from vigil.infowatch.advisories.service import (
    AdvisoryDraft,
    approve_advisory,
    create_advisory,
    list_advisories,
)
from vigil.infowatch.models import Advisory
from vigil.infowatch.review import (
    RULES,
    campaign_svg,
    claims_by_fact,
    finding,
    findings,
    timeline_svg,
)
from vigil.infowatch.watchlist import WatchKind, add_watched, watchlist
from vigil.store.models import AuditEntry
from vigil.web import session as web_session
from vigil.web.deps import DeploymentDep, Viewer, WebUser, require
from vigil.web.schemas import RowId
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)
Analyst = Annotated[WebUser, Depends(require(Permission.ANALYSE))]


@router.get("/infowatch/posts", response_class=HTMLResponse)
def posts_page(
    request: Request,
    dep: DeploymentDep,
    user: Viewer,
    rule: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    chosen = rule if rule in RULES else ""
    with dep.store.reader() as session:
        rows = findings(session, user.actor, chosen or None, open_only=True)
        return render(
            request, "infowatch_posts.html", {"rows": rows, "rule": chosen, "rules": RULES}
        )


@router.get("/infowatch/campaigns", response_class=HTMLResponse)
def campaigns_page(request: Request, dep: DeploymentDep, user: Viewer) -> Response:
    with dep.store.reader() as session:
        rows = findings(session, user.actor, "coordinated-campaign")
        return render(request, "infowatch_campaigns.html", {"rows": rows})


@router.get("/infowatch/campaigns/{finding_id}", response_class=HTMLResponse)
def campaign_page(
    request: Request, dep: DeploymentDep, user: Viewer, finding_id: RowId
) -> Response:
    with dep.store.reader() as session:
        row = finding(session, user.actor, finding_id, "coordinated-campaign")
        return render(
            request,
            "infowatch_campaign.html",
            {
                "f": row,
                "graph": Markup(campaign_svg(row.evidence)),  # noqa: S704  # escaped in review
                "timeline": Markup(timeline_svg(row.evidence)),  # noqa: S704
            },
        )


@router.get("/infowatch/impersonation", response_class=HTMLResponse)
def impersonation_page(request: Request, dep: DeploymentDep, user: Viewer) -> Response:
    with dep.store.reader() as session:
        rows = findings(session, user.actor, "impersonation")
        return render(request, "infowatch_impersonation.html", {"rows": rows})


@router.get("/infowatch/claims", response_class=HTMLResponse)
def claims_page(request: Request, dep: DeploymentDep, user: Viewer) -> Response:
    with dep.store.reader() as session:
        lines = claims_by_fact(findings(session, user.actor, "false-claim"))
        return render(request, "infowatch_claims.html", {"lines": lines})


@router.get("/infowatch/advisories", response_class=HTMLResponse)
def advisories_page(request: Request, dep: DeploymentDep, user: Viewer) -> Response:
    with dep.store.reader() as session:
        rows = list_advisories(session, user.actor)
        return render(request, "infowatch_advisories.html", {"rows": rows})


@router.get("/infowatch/advisories/new", response_class=HTMLResponse)
def advisory_editor(
    request: Request,
    dep: DeploymentDep,
    user: Analyst,
    finding_id: Annotated[RowId | None, Query(alias="finding")] = None,
) -> Response:
    with dep.store.reader() as session:
        answered = finding(session, user.actor, finding_id) if finding_id is not None else None
        return render(request, "infowatch_advisory_new.html", {"f": answered})


@router.post("/infowatch/advisories")
def advisory_create(
    request: Request,
    dep: DeploymentDep,
    user: Analyst,
    title_vi: Annotated[str, Form(max_length=300)],
    title_en: Annotated[str, Form(max_length=300)],
    body_vi: Annotated[str, Form(max_length=20000)],
    body_en: Annotated[str, Form(max_length=20000)],
    kind: Annotated[str, Form(max_length=16)] = "warning",
    finding_ids: Annotated[list[RowId] | None, Form()] = None,
) -> Response:
    draft = AdvisoryDraft(kind, title_vi, title_en, body_vi, body_en, tuple(finding_ids or ()))
    with dep.store.session() as session:
        unit = user.actor.unit if user.actor.unit in dep.units else dep.units.root.code
        advisory = create_advisory(session, user.actor, draft, unit=unit, now=dep.now())
        advisory_id = advisory.id
    web_session.flash(request, "ok", _("Advisory saved as a draft.", user.lang))
    return RedirectResponse(f"/infowatch/advisories/{advisory_id}", status_code=303)


@router.get("/infowatch/advisories/{advisory_id}", response_class=HTMLResponse)
def advisory_page(
    request: Request, dep: DeploymentDep, user: Viewer, advisory_id: RowId
) -> Response:
    with dep.store.reader() as session:
        advisory = session.get(Advisory, advisory_id)
        if advisory is None or not user.actor.sees(advisory.unit):
            raise NotFoundError(f"no advisory {advisory_id}")
        history = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.target == f"advisory:{advisory_id}")
            .order_by(AuditEntry.id)
        ).all()
        return render(request, "infowatch_advisory.html", {"a": advisory, "history": history})


@router.post("/infowatch/advisories/{advisory_id}/approve")
def advisory_approve(
    request: Request, dep: DeploymentDep, user: Analyst, advisory_id: RowId
) -> Response:
    with dep.store.session() as session:
        approve_advisory(session, user.actor, advisory_id, now=dep.now())
    publish_site(dep)
    web_session.flash(request, "ok", _("Advisory approved and published.", user.lang))
    return RedirectResponse(f"/infowatch/advisories/{advisory_id}", status_code=303)


@router.get("/infowatch/watchlist", response_class=HTMLResponse)
def watchlist_page(request: Request, dep: DeploymentDep, user: Viewer) -> Response:
    with dep.store.reader() as session:
        entries = watchlist(session, dep.province)
    return render(
        request, "infowatch_watchlist.html", {"entries": entries, "kinds": list(WatchKind)}
    )


@router.post("/infowatch/watchlist")
def watchlist_add(
    request: Request,
    dep: DeploymentDep,
    user: Analyst,
    kind: Annotated[WatchKind, Form()],
    value: Annotated[str, Form(max_length=300)],
    owner: Annotated[str, Form(max_length=300)],
    platform: Annotated[str, Form(max_length=40)] = "",
    name: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    with dep.store.session() as session:
        add_watched(session, user.actor, kind, value, owner, platform=platform, name=name)
    web_session.flash(request, "ok", _("Added to the watchlist.", user.lang))
    return RedirectResponse("/infowatch/watchlist", status_code=303)


@router.get("/public/{path:path}")
def public_file(dep: DeploymentDep, path: str) -> Response:
    """The public advisories site: static files, no login (what a web server would serve)."""
    root = public_dir(dep).resolve()
    target = (root / (path or "index.html")).resolve()
    if target.is_dir():
        target = target / "index.html"
    if not target.is_relative_to(root) or not target.is_file():
        raise NotFoundError("no such page")
    media = {".atom": "application/atom+xml", ".pdf": "application/pdf"}.get(Path(target).suffix)
    return FileResponse(target, media_type=media)
