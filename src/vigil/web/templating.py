"""Jinja2 pages: autoescaped templates, translated per request, with the layout's shared context."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from vigil.core.access import Permission
from vigil.core.clock import format_local
from vigil.core.i18n import LANGUAGES, translations
from vigil.core.severity import Severity
from vigil.deployment import Deployment
from vigil.plugins import NavItem
from vigil.web import session as web_session

TEMPLATES = Path(__file__).parent / "templates"

#: The frame's own menu entries: the dashboard first, the platform's admin pages last; the rooms'
#: (through the vigil_nav hook) go between, by their `order`.
FRAME_NAV = (
    NavItem("/", "Dashboard", order=0),
    NavItem("/units", "Units", order=900),
    NavItem("/audit", "Audit log", Permission.ADMIN.value, order=910),
    NavItem("/users", "Users", Permission.ADMIN.value, order=920),
)


@jinja2.pass_context
def _gettext(context: jinja2.runtime.Context, message: str) -> str:
    return translations(str(context.get("lang", "en"))).gettext(message)


@jinja2.pass_context
def _ngettext(context: jinja2.runtime.Context, singular: str, plural: str, n: int) -> str:
    return translations(str(context.get("lang", "en"))).ngettext(singular, plural, n)


@jinja2.pass_context
def _pgettext(context: jinja2.runtime.Context, ctx: str, message: str) -> str:
    return translations(str(context.get("lang", "en"))).pgettext(ctx, message)


@jinja2.pass_context
def _npgettext(
    context: jinja2.runtime.Context, ctx: str, singular: str, plural: str, n: int
) -> str:
    return translations(str(context.get("lang", "en"))).npgettext(ctx, singular, plural, n)


@jinja2.pass_context
def _code_label(context: jinja2.runtime.Context, value: object) -> str:
    """A stored code (in_progress, duty_officer) as words: translated, else with spaces."""
    code = str(value)
    text = translations(str(context.get("lang", "en"))).gettext(code)
    return text if text != code else code.replace("_", " ")


def _pretty_json(value: Any) -> str:
    # Returned as plain text: autoescape then escapes whatever the evidence holds.
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


def _severity_label(value: int | str) -> str:
    return Severity.parse(value).label


def build_environment(extra_dirs: Iterable[Path] = ()) -> jinja2.Environment:
    loader = jinja2.FileSystemLoader([str(TEMPLATES), *(str(d) for d in extra_dirs)])
    env = jinja2.Environment(
        loader=loader,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # The language is the request's, read from the template context: one environment serves all.
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_gettext,
        ngettext=_ngettext,
        pgettext=_pgettext,
        npgettext=_npgettext,
        newstyle=True,
    )
    env.filters["local"] = format_local
    env.filters["pretty_json"] = _pretty_json
    env.filters["severity"] = _severity_label
    env.filters["label"] = _code_label
    return env


def request_lang(request: Request) -> str:
    user = getattr(request.state, "user", None)
    lang = getattr(user, "lang", None) or request.session.get("lang")
    if lang not in LANGUAGES:
        lang = request.app.state.deployment.settings.lang
    return str(lang) if lang in LANGUAGES else "vi"


def _visible_nav(request: Request) -> list[NavItem]:
    user = getattr(request.state, "user", None)
    if user is None:
        return []
    items: list[NavItem] = request.app.state.nav
    known = {p.value for p in Permission}
    # An entry naming a permission this version does not know is hidden, not shown to all.
    return [
        item
        for item in items
        if item.permission in known and user.actor.can(Permission(item.permission))
    ]


def _matches(path: str, item: NavItem) -> bool:
    return (
        path == "/" if item.path == "/" else path == item.path or path.startswith(item.path + "/")
    )


def _nav(path: str, items: list[NavItem]) -> list[tuple[NavItem, bool]]:
    """Menu entries with the active one marked: the most specific match (/duty/handover, not
    /duty, on the handover page)."""
    matching = [item.path for item in items if _matches(path, item)]
    active = max(matching, key=len, default=None)
    return [(item, item.path == active) for item in items]


def layout_context(request: Request) -> dict[str, Any]:
    """What every template may use (the language, the officer, the menu, the phase...), without
    the flashed messages: a dashboard panel renders with this."""
    dep: Deployment = request.app.state.deployment
    lang = request_lang(request)
    policy = dep.policy()
    province = dep.units.root
    return {
        "request": request,
        "user": getattr(request.state, "user", None),
        "lang": lang,
        "languages": LANGUAGES,
        "csrf_token": web_session.csrf_token(request),
        "nav": _nav(request.url.path, _visible_nav(request)),
        "phase": policy.phase.value,
        "threshold": policy.alert_threshold.label,
        "province": province.name(lang),
        "unit_name": lambda code: dep.units.get(code).name(lang) if code in dep.units else code,
    }


def base_context(request: Request) -> dict[str, Any]:
    """The layout's context of a page, with the messages flashed to it (shown once)."""
    return {**layout_context(request), "flashes": web_session.take_flashes(request)}


def templates(request: Request) -> Jinja2Templates:
    tpl = request.app.state.templates
    assert isinstance(tpl, Jinja2Templates)
    return tpl


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    full = base_context(request)
    full.update(context or {})
    return templates(request).TemplateResponse(
        request, name, full, status_code=status_code, headers=headers
    )


def render_error(
    request: Request, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> HTMLResponse:
    return render(
        request, "error.html", {"status": status, "code": code, "message": message}, status, headers
    )
