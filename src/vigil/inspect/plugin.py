"""The inspection room's hooks: its tables, migrations, catalog and templates, its detector,
commands, reports, pages and its part of the demo."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from vigil.core.finding import Finding
from vigil.deployment import Deployment
from vigil.plugins import DemoContext, NavItem, hookimpl

if TYPE_CHECKING:
    from fastapi import APIRouter

_ROOM = Path(__file__).parent


@hookimpl
def vigil_label() -> str:
    return "Inspections"


@hookimpl
def vigil_models() -> Iterable[str]:
    return ["vigil.inspect.models"]


@hookimpl
def vigil_migrations() -> Iterable[Path]:
    return [_ROOM / "migrations"]


@hookimpl
def vigil_locales() -> Iterable[Path]:
    return [_ROOM / "locales"]


@hookimpl
def vigil_templates() -> Iterable[Path]:
    return [_ROOM / "templates"]


@hookimpl
def vigil_detect(deployment: Deployment) -> Iterable[Finding]:
    from vigil.inspect.controls.catalog import load_catalog
    from vigil.inspect.workflow.findings import detect_inspection_findings

    with deployment.store.reader() as session:
        return detect_inspection_findings(session, load_catalog(), deployment.now())


@hookimpl
def vigil_cli(app: typer.Typer) -> None:
    from vigil.inspect import reports
    from vigil.inspect.cli import mount

    mount(app)
    reports.mount(app)


@hookimpl
def vigil_demo(ctx: DemoContext) -> None:
    from vigil.inspect.demo import build_demo

    build_demo(ctx)


@hookimpl
def vigil_routers() -> Iterable[APIRouter]:
    """The inspections, one inspection's scorecard and checklist form, remediation tracking."""
    from vigil.inspect.pages import router

    return [router]


@hookimpl
def vigil_nav() -> Iterable[NavItem]:
    return [
        NavItem("/inspect", "Inspections"),
        NavItem("/inspect/remediation", "Remediation tracking"),
    ]
