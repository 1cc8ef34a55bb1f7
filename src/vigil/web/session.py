"""The login cookie: signed, HttpOnly, SameSite=Lax, holding the token of a server-side session
(vigil.store.sessions), the CSRF token, the language and one-time notices."""

from __future__ import annotations

import secrets

from fastapi import FastAPI, Request
from starlette.middleware.sessions import SessionMiddleware

from vigil.core.config import Settings

COOKIE = "vigil_session"


def install_sessions(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.session_secret(),
        session_cookie=COOKIE,
        # The cookie lasts the absolute lifetime; the store ends the session sooner when idle.
        max_age=max(60, int(settings.session_hours * 3600)),
        same_site="lax",
        https_only=settings.cookie_secure,
    )


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use (also for the anonymous login form)."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def start(request: Request, token: str) -> str:
    """A fresh cookie for a user who just logged in, holding the token of its server-side
    session (vigil.store.sessions); returns its new CSRF token.

    Everything from before the login is dropped, so a session id or token planted on the
    login form is worthless afterwards (session fixation).
    """
    lang = request.session.get("lang")
    request.session.clear()
    request.session["sid"] = token
    if isinstance(lang, str):
        request.session["lang"] = lang
    return csrf_token(request)


def end(request: Request) -> None:
    request.session.clear()


def token(request: Request) -> str | None:
    """The server-side session this cookie claims; the store says whether it still lives."""
    sid = request.session.get("sid")
    return sid if isinstance(sid, str) and sid else None


def flash(request: Request, kind: str, message: str) -> None:
    """A one-time notice shown on the next page (already translated)."""
    notes = request.session.get("flash")
    items = notes if isinstance(notes, list) else []
    items.append([kind, message])
    request.session["flash"] = items[-5:]


def take_flashes(request: Request) -> list[tuple[str, str]]:
    notes = request.session.pop("flash", None)
    if not isinstance(notes, list):
        return []
    return [(str(k), str(m)) for k, m in notes]
