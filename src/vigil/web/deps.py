"""Dependencies every route shares: the deployment, the logged-in user, permission checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from vigil.core.access import Actor, Permission
from vigil.core.errors import AuthError
from vigil.deployment import Deployment
from vigil.store.models import User
from vigil.store.users import actor_for
from vigil.web import session as web_session
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
    return request.client.host if request.client else None


def current_user(request: Request, dep: Annotated[Deployment, Depends(get_deployment)]) -> WebUser:
    """The logged-in user, read afresh so that a disabled account stops working at once."""
    cached = getattr(request.state, "user", None)
    if isinstance(cached, WebUser):
        return cached
    uid = web_session.user_id(request)
    if uid is None:
        raise AuthError("login required")
    with dep.store.reader() as session:
        user = session.get(User, uid)
        if user is None or not user.active or user.unit not in dep.units:
            web_session.end(request)
            raise AuthError("login required")
        web_user = WebUser(
            actor_for(user, dep.units, client_ip(request)), user.full_name, user.lang
        )
    web_session.touch(request)
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
