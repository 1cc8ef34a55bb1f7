"""CSRF protection: every unsafe request carries the session's token (form field or header)."""

from __future__ import annotations

import hmac

from fastapi import Request

from vigil.core.errors import AuthError
from vigil.web.errors import CsrfError

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
#: JSON login has no session yet; a cross-site form cannot send application/json without CORS.
EXEMPT = frozenset({"/api/login"})
LOGIN_FORM = "/login"
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def csrf_protect(request: Request) -> None:
    """App-wide dependency: refuse an unsafe method whose token does not match the session's."""
    if request.method in SAFE_METHODS or request.url.path in EXEMPT:
        return
    expected = request.session.get("csrf")
    if not expected and request.url.path != LOGIN_FORM:
        # No session at all (never logged in, or expired): nothing to forge, the login is missing.
        raise AuthError("login required")
    supplied = request.headers.get(HEADER)
    content_type = request.headers.get("content-type", "")
    if not supplied and content_type.startswith(_FORM_TYPES):
        # FastAPI has parsed the form already for the route; Starlette caches it on the request.
        value = (await request.form()).get(FIELD)
        supplied = value if isinstance(value, str) else None
    if not isinstance(expected, str) or not expected or not supplied:
        raise CsrfError("missing CSRF token")
    if not hmac.compare_digest(expected.encode(), supplied.encode()):
        raise CsrfError("CSRF token does not match the session")
