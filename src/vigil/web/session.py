"""The login session: a signed HttpOnly SameSite=Lax cookie with the user id and CSRF token."""

from __future__ import annotations

import secrets
import time

from fastapi import FastAPI, Request
from starlette.middleware.sessions import SessionMiddleware

from vigil.core.config import Settings

COOKIE = "vigil_session"
#: The cookie is re-signed at most this often, so that a session lives while it is used.
_TOUCH_SECONDS = 60


def install_sessions(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.session_secret(),
        session_cookie=COOKIE,
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


def start(request: Request, user_id: int) -> str:
    """A fresh session for a user who just logged in; returns its new CSRF token.

    Everything from before the login is dropped, so a session id or token planted on the
    login form is worthless afterwards (session fixation).
    """
    lang = request.session.get("lang")
    request.session.clear()
    request.session["uid"] = user_id
    request.session["sid"] = secrets.token_urlsafe(16)
    request.session["seen"] = int(time.time())
    if isinstance(lang, str):
        request.session["lang"] = lang
    return csrf_token(request)


def end(request: Request) -> None:
    request.session.clear()


def user_id(request: Request) -> int | None:
    uid = request.session.get("uid")
    return uid if isinstance(uid, int) else None


def touch(request: Request) -> None:
    """Re-sign the cookie now and then: its max age counts from the last activity."""
    now = int(time.time())
    seen = request.session.get("seen")
    if not isinstance(seen, int) or now - seen >= _TOUCH_SECONDS:
        request.session["seen"] = now


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
