"""JSON login, logout and who-am-I; the OpenAPI document and its reference page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from vigil.core.access import grants
from vigil.core.errors import ValidationError
from vigil.store.users import actor_for
from vigil.web import session as web_session
from vigil.web.accounts import change_password
from vigil.web.apidocs import operations
from vigil.web.auth import login, logout, open_login
from vigil.web.deps import (
    CurrentUser,
    DeploymentDep,
    WebUser,
    client_ip,
    get_throttle,
    session_now,
    session_policy,
)
from vigil.web.schemas import ERROR_RESPONSES, LoginIn, LoginOut, MeOut, PasswordIn
from vigil.web.templating import render

router = APIRouter(prefix="/api", tags=["session"], responses=ERROR_RESPONSES)


def me_of(user: WebUser) -> MeOut:
    actor = user.actor
    return MeOut(
        username=actor.username,
        full_name=user.full_name,
        role=actor.role.value,
        unit=actor.unit,
        lang=user.lang,
        permissions=sorted(p.value for p in grants(actor.role)),
    )


@router.post(
    "/login", summary="Log in", response_model=LoginOut, responses={429: ERROR_RESPONSES[401]}
)
def api_login(request: Request, dep: DeploymentDep, body: LoginIn) -> LoginOut:
    """Log in; the session cookie is set and the CSRF token for writes is returned."""
    if not request.headers.get("content-type", "").startswith("application/json"):
        # Keeps this CSRF-exempt route out of reach of cross-site HTML forms.
        raise ValidationError("send the credentials as application/json")
    user = login(
        dep.store,
        dep.units,
        get_throttle(request),
        body.username,
        body.password,
        client_ip(request),
    )
    session_token = open_login(
        dep.store, user.id, client_ip(request), session_now(request), session_policy(request)
    )
    token = web_session.start(request, session_token)
    web_user = WebUser(actor_for(user, dep.units, client_ip(request)), user.full_name, user.lang)
    return LoginOut(csrf_token=token, user=me_of(web_user))


@router.post("/logout", summary="Log out", status_code=204)
def api_logout(request: Request, dep: DeploymentDep, user: CurrentUser) -> Response:
    logout(dep.store, user.actor, web_session.token(request))
    web_session.end(request)
    return Response(status_code=204)


@router.get("/me", summary="Who am I", response_model=MeOut)
def api_me(user: CurrentUser) -> MeOut:
    return me_of(user)


@router.get("/openapi.json", include_in_schema=False)
def openapi_document(request: Request, user: CurrentUser) -> dict[str, Any]:
    schema: dict[str, Any] = request.app.openapi()
    return schema


@router.get("/docs", include_in_schema=False, response_class=HTMLResponse)
def api_reference(request: Request, user: CurrentUser) -> Response:
    """A reference of the API rendered here from the OpenAPI document: no CDN, works offline."""
    document: dict[str, Any] = request.app.openapi()
    return render(
        request,
        "api_docs.html",
        {
            "operations": operations(document),
            "schemas": document.get("components", {}).get("schemas", {}),
        },
    )


@router.post("/me/password", summary="Change my password", response_model=LoginOut)
def api_password(
    request: Request, dep: DeploymentDep, user: CurrentUser, body: PasswordIn
) -> LoginOut:
    """Every session of the account ends, this one too; the answer carries a new session
    (cookie) and its CSRF token."""
    with dep.store.session() as session:
        change_password(session, user.actor, body.current_password, body.new_password)
    assert user.actor.user_id is not None  # change_password refused an actor without account
    session_token = open_login(
        dep.store,
        user.actor.user_id,
        client_ip(request),
        session_now(request),
        session_policy(request),
    )
    token = web_session.start(request, session_token)
    return LoginOut(csrf_token=token, user=me_of(user))
