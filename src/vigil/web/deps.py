"""Dependencies every route shares: the deployment, the logged-in user, permission checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from vigil.core.access import Actor, Permission
from vigil.core.clock import utcnow
from vigil.core.errors import AuthError
from vigil.deployment import Deployment
from vigil.store.sessions import SessionPolicy, live_session, touch_session
from vigil.store.users import actor_for
from vigil.web import session as web_session
from vigil.web.addresses import client_address
from vigil.web.auth import LoginThrottle


@dataclass(frozen=True)
class WebUser:
    """The officer behind a request: the actor domain functions check, and display details."""

    actor: Actor
    full_name: str
    lang: str


def get_deployment(request: Request) -> Deployment:
    dep = request.app.state.deployment
    assert isinstance(dep, Deployment)
    return dep


def get_throttle(request: Request) -> LoginThrottle:
    throttle = request.app.state.login_throttle
    assert isinstance(throttle, LoginThrottle)
    return throttle


def client_ip(request: Request) -> str | None:
    """The client's address: the peer's, or the one a trusted proxy forwards (web.addresses)."""
    peer = request.client.host if request.client else None
    proxies = getattr(request.app.state, "trusted_proxies", ())
    return client_address(peer, request.headers.get("x-forwarded-for"), proxies)


def session_now(request: Request) -> datetime:
    """Wall-clock time for session ages (the deployment's fixed clock is for the data's time);
    tests replace app.state.session_clock to age a session."""
    clock: Callable[[], datetime] = getattr(request.app.state, "session_clock", utcnow)
    return clock()


def session_policy(request: Request) -> SessionPolicy:
    policy = request.app.state.session_policy
    assert isinstance(policy, SessionPolicy)
    return policy


def current_user(request: Request, dep: Annotated[Deployment, Depends(get_deployment)]) -> WebUser:
    """The user of a live server-side session, read afresh on each request, so that logout, a
    password change, a disabled account or an admin's "end sessions" stop it at once."""
    cached = getattr(request.state, "user", None)
    if isinstance(cached, WebUser):
        return cached
    token = web_session.token(request)
    if token is None:
        raise AuthError("login required")
    now = session_now(request)
    with dep.store.reader() as session:
        live = live_session(session, token, now, session_policy(request))
        if live is None or live.user.unit not in dep.units:
            web_session.end(request)
            raise AuthError("login required")
        user = live.user
        web_user = WebUser(
            actor_for(user, dep.units, client_ip(request)), user.full_name, user.lang
        )
    if live.stale:
        with dep.store.session() as session:
            touch_session(session, token, now)
    request.state.user = web_user
    return web_user


def current_actor(user: Annotated[WebUser, Depends(current_user)]) -> Actor:
    return user.actor


def require(permission: Permission) -> Callable[..., WebUser]:
    """A dependency that lets the request through only for users who hold `permission`."""

    def dependency(user: Annotated[WebUser, Depends(current_user)]) -> WebUser:
        user.actor.require(permission)
        return user

    dependency.__name__ = f"require_{permission.value}"
    return dependency


DeploymentDep = Annotated[Deployment, Depends(get_deployment)]
CurrentUser = Annotated[WebUser, Depends(current_user)]
Viewer = Annotated[WebUser, Depends(require(Permission.VIEW))]
Triager = Annotated[WebUser, Depends(require(Permission.TRIAGE))]
CaseManager = Annotated[WebUser, Depends(require(Permission.MANAGE_CASES))]
DutyManager = Annotated[WebUser, Depends(require(Permission.MANAGE_DUTY))]
PersonalViewer = Annotated[WebUser, Depends(require(Permission.VIEW_PERSONAL))]
Admin = Annotated[WebUser, Depends(require(Permission.ADMIN))]
