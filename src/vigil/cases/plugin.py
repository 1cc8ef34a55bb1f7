"""The duty room's hooks: its tables, migrations and catalog, its detectors, commands and
reports, its pages and API, its dashboard panels, its part of the demo."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from vigil.core.finding import Finding
from vigil.deployment import Deployment
from vigil.plugins import DashboardPanel, DemoContext, NavItem, Scenario, hookimpl

if TYPE_CHECKING:
    from fastapi import APIRouter

_ROOM = Path(__file__).parent


@hookimpl
def vigil_label() -> str:
    return "Duty room operations"


@hookimpl
def vigil_models() -> Iterable[str]:
    return ["vigil.cases.models"]


@hookimpl
def vigil_migrations() -> Iterable[Path]:
    return [_ROOM / "migrations"]


@hookimpl
def vigil_locales() -> Iterable[Path]:
    return [_ROOM / "locales"]


@hookimpl
def vigil_detect(deployment: Deployment) -> Iterable[Finding]:
    from vigil.cases.detectors import detect_duty_gaps, detect_overdue_cases

    now = deployment.now()
    with deployment.store.reader() as session:
        findings = detect_overdue_cases(session, now)
        findings += detect_duty_gaps(session, deployment.calendar, deployment.units.root.code, now)
    return findings


@hookimpl
def vigil_cli(app: typer.Typer) -> None:
    from vigil.cases.cli import mount
    from vigil.cases.reports import cli as reports_cli

    mount(app)
    reports_cli.mount(app)


@hookimpl
def vigil_routers() -> Iterable[APIRouter]:
    """The alert queue, findings, cases, duty roster and handover pages; their /api routes; the
    report downloads."""
    from vigil.cases.api import cases, findings
    from vigil.cases.pages import alerts, duty, handover
    from vigil.cases.pages import cases as case_pages
    from vigil.cases.reports import routes as report_routes

    return [
        alerts.router,
        case_pages.router,
        duty.router,
        handover.router,
        findings.router,
        cases.router,
        report_routes.router,
    ]


@hookimpl
def vigil_nav() -> Iterable[NavItem]:
    # Right after the dashboard (0), before the other rooms' pages (50 by default).
    return [
        NavItem("/alerts", "Alerts", order=10),
        NavItem("/cases", "Cases", order=20),
        NavItem("/duty", "Duty roster", order=30),
        NavItem("/duty/handover", "Shift handover", order=40),
    ]


@hookimpl
def vigil_scenarios() -> Iterable[Scenario]:
    """The playbooks' incidents, which incident-response plans must cover."""
    from vigil.cases.playbooks import load_playbooks

    return [Scenario(p.key, p.title_en, p.title_vi) for p in load_playbooks().values()]


@hookimpl
def vigil_templates() -> Iterable[Path]:
    return [Path(__file__).parent / "templates"]


@hookimpl
def vigil_dashboard() -> Iterable[DashboardPanel]:
    from vigil.cases.pages.dashboard import PANELS

    return PANELS


@hookimpl
def vigil_demo(ctx: DemoContext) -> None:
    from vigil.cases.demo import build_demo

    build_demo(ctx)


@hookimpl
def vigil_demo_order() -> int:
    return 90
