"""The monitor room's hooks: its tables, migrations, catalog and templates, its commands, its
pages, and its detectors for `vigil detect`.

Each part of the room adds itself here: Sigma and log ingest (`vigil monitor`, `vigil rules`);
YARA and indicators of compromise mount their own commands next to them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from vigil.core.finding import Finding
from vigil.plugins import DemoContext, NavItem, hookimpl

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter

    from vigil.deployment import Deployment

_ROOM = Path(__file__).parent


@hookimpl
def vigil_models() -> Iterable[str]:
    return ["vigil.monitor.models"]


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
def vigil_cli(app: typer.Typer) -> None:
    from vigil.monitor import cli as monitor_cli
    from vigil.monitor import yara_cli

    monitor_cli.mount(app)
    yara_cli.mount(app)


@hookimpl
def vigil_detect(deployment: Deployment) -> Iterable[Finding]:
    """Silent sensors, and every rule set over the events it has not scanned yet."""
    from vigil.monitor.sensors import silence_findings
    from vigil.monitor.sigma.scan import scan_all
    from vigil.monitor.yara_cli import detect_indicators

    findings = silence_findings(deployment)
    _reports, sigma = scan_all(deployment, deployment.system("detect"), record=False)
    return findings + sigma + detect_indicators(deployment)


@hookimpl
def vigil_demo(ctx: DemoContext) -> None:
    from vigil.monitor.demo import build_demo

    build_demo(ctx)


@hookimpl
def vigil_demo_order() -> int:
    # Before the duty room (90), which opens cases from findings.
    return 40


@hookimpl
def vigil_routers() -> Iterable[APIRouter]:
    """Event search, detections, coverage and sensor pages (monitor/routes.py)."""
    from vigil.monitor.routes import router

    return [router]


@hookimpl
def vigil_nav() -> Iterable[NavItem]:
    return [
        NavItem("/monitor/events", "Event search"),
        NavItem("/monitor/detections", "Detections"),
        NavItem("/monitor/coverage", "Rule coverage"),
        NavItem("/monitor/sensors", "Sensor health"),
    ]
