"""Pages of the unit tree, the audit log and the user accounts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigil.core.access import Role
from vigil.core.i18n import LANGUAGES, _
from vigil.web import session as web_session
from vigil.web.accounts import add_user, end_sessions, list_users, set_active
from vigil.web.auditlog import audit_actions, search_audit
from vigil.web.deps import Admin, DeploymentDep, Viewer
from vigil.web.templating import render
from vigil.web.unit_tree import walk

router = APIRouter(include_in_schema=False)


@router.get("/units", response_class=HTMLResponse)
def units_page(request: Request, dep: DeploymentDep, user: Viewer) -> Response:
    return render(request, "units.html", {"rows": walk(dep.units), "scope": user.actor.scope})


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    dep: DeploymentDep,
    user: Admin,
    actor: Annotated[str, Query(max_length=64)] = "",
    action: Annotated[str, Query(max_length=64)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    with dep.store.reader() as session:
        result = search_audit(
            session, user.actor, who=actor or None, action=action or None, page=page, per_page=50
        )
        actions = audit_actions(session, user.actor)
        return render(
            request,
            "audit.html",
            {"result": result, "actions": actions, "filter_actor": actor, "filter_action": action},
        )


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, dep: DeploymentDep, user: Admin) -> Response:
    with dep.store.reader() as session:
        users = list_users(session, user.actor)
        return render(
            request,
            "users.html",
            {
                "users": users,
                "roles": [r.value for r in Role],
                "units": [u for u, _depth in walk(dep.units) if u.code in user.actor.scope],
                "user_languages": LANGUAGES,
            },
        )


@router.post("/users")
def users_add(
    request: Request,
    dep: DeploymentDep,
    user: Admin,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    role: Annotated[str, Form()],
    unit: Annotated[str, Form()],
    full_name: Annotated[str, Form(max_length=200)] = "",
    lang: Annotated[str, Form()] = "vi",
) -> Response:
    with dep.store.session() as session:
        add_user(session, user.actor, dep.units, username, password, role, unit, full_name, lang)
    web_session.flash(request, "ok", _("User %(name)s added.", user.lang) % {"name": username})
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{username}/active")
def users_active(
    request: Request,
    dep: DeploymentDep,
    user: Admin,
    username: Annotated[str, Path(max_length=64)],
    active: Annotated[int, Form(ge=0, le=1)],
) -> Response:
    with dep.store.session() as session:
        set_active(session, user.actor, username, bool(active))
    message = (
        "Account %(name)s enabled." if active else "Account %(name)s disabled; its sessions ended."
    )
    web_session.flash(request, "ok", _(message, user.lang) % {"name": username})
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{username}/end-sessions")
def users_end_sessions(
    request: Request,
    dep: DeploymentDep,
    user: Admin,
    username: Annotated[str, Path(max_length=64)],
) -> Response:
    with dep.store.session() as session:
        ended = end_sessions(session, user.actor, username)
    message = _("%(count)s sessions of %(name)s ended.", user.lang)
    web_session.flash(request, "ok", message % {"count": ended, "name": username})
    return RedirectResponse("/users", status_code=303)
