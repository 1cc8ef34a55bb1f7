"""The one place where errors become HTTP responses: JSON for /api, an error page for pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from vigil.core.errors import AuthError, PermissionDenied, VigilError
from vigil.web.templating import render_error


class LoginThrottled(AuthError):
    """Too many failed logins for one username from one address; wait before trying again."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; try again in {retry_after} s")
        self.retry_after = retry_after


class CsrfError(PermissionDenied):
    """An unsafe request came without the session's CSRF token."""

    code = "csrf"


#: Codes of HTTP errors that Starlette raises itself (unknown route, wrong method...).
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}


def error_body(code: str, message: str, location: str | None = None) -> dict[str, Any]:
    """The JSON error shape every /api route answers with; clients rely on it."""
    return {"error": {"code": code, "message": message, "location": location}}


def is_api(request: Request) -> bool:
    return request.url.path == "/api" or request.url.path.startswith("/api/")


def _respond(
    request: Request,
    status: int,
    code: str,
    message: str,
    location: str | None,
    headers: dict[str, str] | None = None,
) -> Response:
    if is_api(request):
        return JSONResponse(
            error_body(code, message, location), status_code=status, headers=headers
        )
    return render_error(request, status, code, message, headers)


async def vigil_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, VigilError)
    headers: dict[str, str] = {}
    if isinstance(exc, LoginThrottled):
        headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, AuthError) and not is_api(request):
        # A page asked for without a login goes to the login form, and comes back after; a form
        # posted from an expired session cannot be replayed, so that one lands on the dashboard.
        if request.method != "GET":
            return RedirectResponse("/login", status_code=303)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)
    location = str(exc.location) if exc.location else None
    return _respond(request, exc.status_code, exc.code, exc.message, location, headers or None)


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    location = ".".join(str(p) for p in first.get("loc", ()))
    message = f"{location}: {first.get('msg', 'invalid')}" if location else str(first.get("msg"))
    return _respond(request, 422, "invalid", message, location or None)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    headers = dict(exc.headers) if exc.headers else None
    return _respond(request, exc.status_code, code, str(exc.detail), None, headers)


async def unexpected_error(request: Request, exc: Exception) -> Response:
    # The detail stays in the server log; the client learns only that it failed.
    return _respond(request, 500, "internal", "internal error", None)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(VigilError, vigil_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)
