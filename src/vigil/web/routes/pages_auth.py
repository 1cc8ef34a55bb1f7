"""Login and logout pages, the language switch, and the health check."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from vigil.core.errors import AuthError, ValidationError
from vigil.core.i18n import LANGUAGES, _
from vigil.web import session as web_session
from vigil.web.accounts import change_password, set_language
from vigil.web.auth import login, logout, open_login
from vigil.web.deps import (
    CurrentUser,
    DeploymentDep,
    client_ip,
    get_throttle,
    session_now,
    session_policy,
)
from vigil.web.errors import LoginThrottled
from vigil.web.templating import render, request_lang

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only a path on this site: an absolute or protocol-relative URL would be an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/healthz")
def healthz() -> PlainTextResponse:
    return PlainTextResponse("ok")


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/", lang: str | None = None) -> Response:
    if lang in LANGUAGES:
        request.session["lang"] = lang
    return render(request, "login.html", {"next": safe_next(next), "error": None, "username": ""})


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    dep: DeploymentDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form()] = "/",
) -> Response:
    try:
        user = login(
            dep.store, dep.units, get_throttle(request), username, password, client_ip(request)
        )
    except LoginThrottled as e:
        message = _(
            "Too many failed logins. Try again in %(seconds)s seconds.", request_lang(request)
        )
        return render(
            request,
            "login.html",
            {
                "next": safe_next(next),
                "error": message % {"seconds": e.retry_after},
                "username": username,
            },
            status_code=429,
            headers={"Retry-After": str(e.retry_after)},
        )
    except AuthError:
        return render(
            request,
            "login.html",
            {
                "next": safe_next(next),
                "error": _("Wrong username or password.", request_lang(request)),
                "username": username,
            },
            status_code=401,
        )
    token = open_login(
        dep.store, user.id, client_ip(request), session_now(request), session_policy(request)
    )
    web_session.start(request, token)
    request.session["lang"] = user.lang
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout_submit(request: Request, dep: DeploymentDep, user: CurrentUser) -> Response:
    logout(dep.store, user.actor, web_session.token(request))
    web_session.end(request)
    return RedirectResponse("/login", status_code=303)


@router.post("/lang")
def switch_language(
    request: Request,
    dep: DeploymentDep,
    user: CurrentUser,
    lang: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    with dep.store.session() as session:
        set_language(session, user.actor, lang)
    request.session["lang"] = lang
    return RedirectResponse(safe_next(next), status_code=303)


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, user: CurrentUser) -> Response:
    return render(request, "account.html", {"error": None})


@router.post("/account/password", response_class=HTMLResponse)
def account_password(
    request: Request,
    dep: DeploymentDep,
    user: CurrentUser,
    current_password: Annotated[str, Form(max_length=1024)],
    new_password: Annotated[str, Form(max_length=1024)],
) -> Response:
    """Every session of the account ends, this one too; the officer stays logged in through a
    new one, so a copy of the old cookie is worthless."""
    try:
        with dep.store.session() as session:
            change_password(session, user.actor, current_password, new_password)
    except ValidationError as e:
        error = _(e.message, user.lang) if e.message else str(e)
        return render(request, "account.html", {"error": error}, status_code=422)
    if user.actor.user_id is not None:
        token = open_login(
            dep.store,
            user.actor.user_id,
            client_ip(request),
            session_now(request),
            session_policy(request),
        )
        lang = request.session.get("lang")
        web_session.start(request, token)
        if isinstance(lang, str):
            request.session["lang"] = lang
    web_session.flash(request, "ok", _("Password changed; other sessions ended.", user.lang))
    return RedirectResponse("/account", status_code=303)
