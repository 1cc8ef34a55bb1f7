"""The monitor room's hooks: its tables, migrations, catalog and templates, its commands, its
pages, its detectors for `vigil detect` and its part of the demo.

The room's entry: the only module that may import any stage (lazily, inside the hooks).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from vigil.plugins import DemoContext, Detection, NavItem, hookimpl

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter

    from vigil.deployment import Deployment

_ROOM = Path(__file__).parent


@hookimpl
def vigil_label() -> str:
    return "Security monitoring"


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
    from vigil.monitor.cli import ioc, monitor, rules, yara

    for group in (monitor, rules, yara, ioc):
        group.mount(app)


@hookimpl
def vigil_detect(deployment: Deployment) -> Detection:
    """Silent sensors, every rule set over the events it has not scanned yet, indicators; the
    rule sets' scanned marks are saved by the caller with the findings."""
    from vigil.monitor.detect.run import detect_stored

    return detect_stored(deployment)


@hookimpl
def vigil_demo(ctx: DemoContext) -> None:
    from vigil.monitor.demo.build import build_demo

    build_demo(ctx)


@hookimpl
def vigil_demo_order() -> int:
    # Before the duty room (90), which opens cases from findings.
    return 40


@hookimpl
def vigil_routers() -> Iterable[APIRouter]:
    """Event search, detections, coverage and sensor pages (monitor/pages/routes.py)."""
    from vigil.monitor.pages.routes import router

    return [router]


@hookimpl
def vigil_nav() -> Iterable[NavItem]:
    return [
        NavItem("/monitor/events", "Event search"),
        NavItem("/monitor/detections", "Detections"),
        NavItem("/monitor/coverage", "Rule coverage"),
        NavItem("/monitor/sensors", "Sensor health"),
    ]
