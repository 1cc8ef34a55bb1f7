"""The application factory: `create_app(settings)` builds everything; nothing is built at import.

The frame brings the login, sessions, CSRF, security headers, errors, the dashboard, the API's
session and reference routes and the platform's admin pages; every room's pages, API, menu
entries, templates and dashboard panels come in through the hooks (vigil.plugins).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pluggy
from fastapi import APIRouter, Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from vigil.core.clock import utcnow
from vigil.core.config import Settings
from vigil.deployment import Deployment
from vigil.plugins import (
    DashboardPanel,
    NavItem,
    contributions,
    plugin_manager,
    template_folders,
)
from vigil.store.sessions import SessionPolicy
from vigil.web.addresses import parse_proxies
from vigil.web.auth import LoginThrottle
from vigil.web.csrf import csrf_protect
from vigil.web.errors import install_error_handlers
from vigil.web.headers import SecurityHeaders
from vigil.web.session import install_sessions
from vigil.web.templating import FRAME_NAV, build_environment

STATIC = Path(__file__).parent / "static"


def _frame_routers() -> list[APIRouter]:
    from vigil.web.routes import (
        api_admin,
        api_session,
        pages_admin,
        pages_auth,
        pages_dashboard,
    )

    return [
        pages_auth.router,
        pages_dashboard.router,
        pages_admin.router,
        api_session.router,
        api_admin.router,
    ]


def menu(pm: pluggy.PluginManager) -> list[NavItem]:
    """The frame's entries and the rooms' (vigil_nav), by `order`; a path already taken is
    skipped."""
    nav: list[NavItem] = list(FRAME_NAV)
    known = {item.path for item in nav}
    for _room, items in contributions("vigil_nav", pm):
        for item in items or ():
            if isinstance(item, NavItem) and item.path not in known:
                nav.append(item)
                known.add(item.path)
    return sorted(nav, key=lambda item: item.order)


def app_from_environment() -> FastAPI:
    """The app of the deployment the environment names (VIGIL_DATA and the other VIGIL_*
    settings): the factory each worker process of `vigil serve --workers N` calls."""
    return create_app(Settings())


def create_app(
    settings: Settings,
    deployment: Deployment | None = None,
    plugins: pluggy.PluginManager | None = None,
) -> FastAPI:
    """The web app of one deployment; pass `deployment` to share an opened one (tests, demo),
    and `plugins` to build it from other rooms than the installed ones (tests)."""
    dep = deployment or Deployment.open(settings)
    pm = plugins if plugins is not None else plugin_manager()

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
    app.state.trusted_proxies = parse_proxies(settings.trusted_proxies)
    app.state.session_policy = SessionPolicy(
        idle=timedelta(minutes=settings.session_idle_minutes),
        lifetime=timedelta(hours=settings.session_hours),
    )
    app.state.session_clock = utcnow
    app.state.templates = Jinja2Templates(env=build_environment(template_folders(pm)))
    app.state.nav = menu(pm)
    app.state.dashboard = [
        panel
        for _room, panels in contributions("vigil_dashboard", pm)
        for panel in panels or ()
        if isinstance(panel, DashboardPanel)
    ]

    install_error_handlers(app)
    install_sessions(app, settings)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    rooms = [
        router for _room, routers in contributions("vigil_routers", pm) for router in routers or ()
    ]
    for router in [*_frame_routers(), *rooms]:
        app.include_router(router)
    return app
