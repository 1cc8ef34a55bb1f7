"""What a form of the duty room says when the action is refused: the reason, in the officer's
language, flashed on the page the form came from (never an error page in its place)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse

from vigil.core.errors import ConflictError, NotFoundError, PermissionDenied, ValidationError
from vigil.core.i18n import error_text
from vigil.web import session as web_session
from vigil.web.routes.pages_auth import safe_next

#: The refusals an officer can meet while working (a step already done, a case with open steps,
#: an empty reason); anything else is the frame's to answer.
REFUSALS = (ValidationError, ConflictError, NotFoundError, PermissionDenied)


def refused(
    request: Request,
    lang: str,
    error: ValidationError | ConflictError | NotFoundError | PermissionDenied,
    back: str,
) -> RedirectResponse:
    """Flash `error` in `lang` and send the officer back to `back` (a path on this site)."""
    web_session.flash(request, "error", error_text(error, lang))
    return RedirectResponse(safe_next(back), status_code=303)
