"""The frame's JSON bodies: the error shape every route declares, login, units, the audit log.

Rooms declare their own bodies beside their routes; all of them make the OpenAPI document.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from annotated_types import Ge, Le
from pydantic import BaseModel, ConfigDict, Field

from vigil.core.access import MAX_ROW_ID
from vigil.store.models import AuditEntry


class OrmOut(BaseModel):
    """A response body read from a stored row's attributes."""

    model_config = ConfigDict(from_attributes=True)


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. forbidden, not_found, csrf.")
    message: str
    location: str | None = Field(None, description="Where the problem is: a file:line, a field.")


class ErrorBody(BaseModel):
    error: ErrorDetail


#: Declared on every route so that clients see the error shape in the OpenAPI document.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in (
        (401, "Not logged in"),
        (403, "Not allowed (role, unit or CSRF token)"),
        (404, "Not found"),
        (409, "Conflicts with the current state"),
        (422, "Invalid input"),
    )
}


#: A row id in a path, a query or a body: anything outside 1..MAX_ROW_ID is refused with 422
#: before it reaches the database (the driver raised OverflowError, a 500, on a huge one).
RowId = Annotated[int, Ge(1), Le(MAX_ROW_ID)]


class PasswordIn(BaseModel):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class SessionsEndedOut(BaseModel):
    username: str
    sessions_ended: int


class LoginIn(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)


class MeOut(BaseModel):
    username: str
    full_name: str
    role: str
    unit: str
    lang: str
    permissions: list[str]


class LoginOut(BaseModel):
    csrf_token: str = Field(description="Send it back as the X-CSRF-Token header on every write.")
    user: MeOut


class UnitOut(BaseModel):
    code: str
    kind: str
    name_vi: str
    name_en: str
    parent: str | None
    depth: int


class AuditOut(OrmOut):
    id: int
    at: datetime
    actor: str
    role: str
    action: str
    target: str
    unit: str | None
    ip: str | None
    detail: dict[str, Any]

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditOut:
        return cls.model_validate(entry)


class AuditPageOut(BaseModel):
    entries: list[AuditOut]
    total: int
    page: int
    per_page: int
