"""The dashboard's blocks: each room's panels (the `vigil_dashboard` hook) rendered for one officer.

A panel the officer may not see is left out; a panel that fails is shown as a box naming it, and
the error goes to the log, so one broken room never takes the commander's page down.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from markupsafe import Markup

from vigil.core.access import Permission
from vigil.plugins import DashboardPanel
from vigil.web.deps import WebUser
from vigil.web.templating import templates

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShownPanel:
    """A panel as the dashboard places it: its HTML, or None when it failed."""

    key: str
    html: Markup | None

    @property
    def failed(self) -> bool:
        return self.html is None


def visible_panels(panels: Iterable[DashboardPanel], user: WebUser) -> list[DashboardPanel]:
    """The panels `user` may see, by `order` (equal orders keep their rooms' order).

    A panel naming a permission this version does not know is hidden, not shown to all.
    """
    known = {p.value for p in Permission}
    return sorted(
        (
            panel
            for panel in panels
            if panel.permission in known and user.actor.can(Permission(panel.permission))
        ),
        key=lambda panel: panel.order,
    )


def render_panels(
    request: Request, user: WebUser, layout: Mapping[str, Any], panels: Iterable[DashboardPanel]
) -> list[ShownPanel]:
    """Each visible panel's template rendered with the page's layout context and its own."""
    env = templates(request).env
    shown = []
    for panel in visible_panels(panels, user):
        try:
            context = {**layout, **panel.context(request, user)}
            body = env.get_template(panel.template).render(context)
        except Exception:  # whatever a room's panel raises, the other panels still show
            log.exception("dashboard panel %s failed", panel.key)
            shown.append(ShownPanel(panel.key, None))
            continue
        # The output of an autoescaped template: placed in the page as it is.
        shown.append(ShownPanel(panel.key, Markup(body)))  # noqa: S704
    return shown
