"""Units and the audit log over the JSON API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from vigil.web.accounts import end_sessions, set_active
from vigil.web.auditlog import MAX_PAGE, search_audit
from vigil.web.deps import Admin, DeploymentDep, Viewer
from vigil.web.schemas import ERROR_RESPONSES, AuditOut, AuditPageOut, SessionsEndedOut, UnitOut
from vigil.web.unit_tree import walk

router = APIRouter(prefix="/api", tags=["admin"], responses=ERROR_RESPONSES)


@router.get("/units", summary="List units", response_model=list[UnitOut])
def api_units(dep: DeploymentDep, user: Viewer) -> list[UnitOut]:
    """The province's units, depth-first from the province."""
    return [
        UnitOut(
            code=unit.code,
            kind=unit.kind.value,
            name_vi=unit.name_vi,
            name_en=unit.name_en,
            parent=unit.parent,
            depth=depth,
        )
        for unit, depth in walk(dep.units)
    ]


@router.get("/audit", summary="Search the audit log", response_model=AuditPageOut)
def api_audit(
    dep: DeploymentDep,
    user: Admin,
    actor: Annotated[str | None, Query(max_length=64, description="Username of the actor.")] = None,
    action: Annotated[
        str | None, Query(max_length=64, description="An action, or a prefix ending in '.'.")
    ] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> AuditPageOut:
    """The audit log, newest first (admins only)."""
    with dep.store.reader() as session:
        result = search_audit(
            session, user.actor, who=actor, action=action, page=page, per_page=per_page
        )
        entries = [AuditOut.of(e) for e in result.entries]
    return AuditPageOut(
        entries=entries, total=result.total, page=result.page, per_page=result.per_page
    )


Username = Annotated[str, Path(max_length=64, description="The account's username.")]


@router.post(
    "/users/{username}/disable", summary="Disable an account", response_model=SessionsEndedOut
)
def api_disable(dep: DeploymentDep, user: Admin, username: Username) -> SessionsEndedOut:
    """The account can no longer log in, and its sessions end at once (admins only)."""
    with dep.store.session() as session:
        ended = end_sessions(session, user.actor, username)
        set_active(session, user.actor, username, False)
    return SessionsEndedOut(username=username, sessions_ended=ended)


@router.post(
    "/users/{username}/enable", summary="Enable an account", response_model=SessionsEndedOut
)
def api_enable(dep: DeploymentDep, user: Admin, username: Username) -> SessionsEndedOut:
    with dep.store.session() as session:
        set_active(session, user.actor, username, True)
    return SessionsEndedOut(username=username, sessions_ended=0)


@router.post(
    "/users/{username}/end-sessions",
    summary="End every session of an account",
    response_model=SessionsEndedOut,
)
def api_end_sessions(dep: DeploymentDep, user: Admin, username: Username) -> SessionsEndedOut:
    """Every copy of every cookie of the account stops working at once (admins only)."""
    with dep.store.session() as session:
        ended = end_sessions(session, user.actor, username)
    return SessionsEndedOut(username=username, sessions_ended=ended)
