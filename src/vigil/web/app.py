"""The application factory: `create_app(settings)` builds everything; nothing is built at import."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from vigil.core.config import Settings
from vigil.deployment import Deployment
from vigil.plugins import NavItem, plugin_manager, template_folders
from vigil.web.auth import LoginThrottle
from vigil.web.csrf import csrf_protect
from vigil.web.errors import install_error_handlers
from vigil.web.headers import SecurityHeaders
from vigil.web.session import install_sessions
from vigil.web.templating import BUILTIN_NAV, build_environment

STATIC = Path(__file__).parent / "static"


def _flatten(results: Iterable[Iterable[Any] | None]) -> list[Any]:
    return [item for result in results if result for item in result]


def _builtin_routers() -> list[APIRouter]:
    from vigil.web.routes import (
        api_admin,
        api_cases,
        api_findings,
        api_session,
        pages_admin,
        pages_alerts,
        pages_auth,
        pages_cases,
        pages_dashboard,
        pages_duty,
        pages_handover,
    )

    return [
        pages_auth.router,
        pages_dashboard.router,
        pages_alerts.router,
        pages_cases.router,
        pages_duty.router,
        pages_handover.router,
        pages_admin.router,
        api_session.router,
        api_findings.router,
        api_cases.router,
        api_admin.router,
    ]


def create_app(settings: Settings, deployment: Deployment | None = None) -> FastAPI:
    """The web app of one deployment; pass `deployment` to share an opened one (tests, demo)."""
    dep = deployment or Deployment.open(settings)
    pm = plugin_manager()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if deployment is None:  # only what this app opened itself
            dep.close()

    app = FastAPI(
        title="Vigil",
        summary="Election security operations: alert queue, cases, duty roster.",
        description=(
            "Log in with POST /api/login; send the returned token as the X-CSRF-Token header on "
            "every write. Times are UTC (ISO 8601 without offset); pages show them in UTC+7. "
            'Errors have one shape: {"error": {"code", "message", "location"}}.'
        ),
        version="1",
        # Served by our own routes behind the login, and without a CDN (see routes/api_session).
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(csrf_protect)],
        lifespan=lifespan,
    )
    app.state.deployment = dep
    app.state.login_throttle = LoginThrottle()
    # The frame's own templates first (build_environment), then each registered room's.
    app.state.templates = Jinja2Templates(env=build_environment(template_folders()))
    nav: list[NavItem] = list(BUILTIN_NAV)
    known = {item.path for item in nav}
    for item in _flatten(pm.hook.vigil_nav()):
        if isinstance(item, NavItem) and item.path not in known:
            nav.append(item)
            known.add(item.path)
    app.state.nav = nav

    install_error_handlers(app)
    install_sessions(app, settings)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in [*_builtin_routers(), *_flatten(pm.hook.vigil_routers())]:
        app.include_router(router)
    return app
