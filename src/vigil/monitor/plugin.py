"""The monitor room's hooks: its commands, pages, detectors for `vigil detect` and demo part.

The room's entry: the only module that may import any stage (lazily, inside the hooks).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vigil.plugins import DemoContext, Detection, NavItem, hookimpl

if TYPE_CHECKING:
    from vigil.deployment import Deployment


@hookimpl
def vigil_cli(app: Any) -> None:
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
def vigil_routers() -> Iterable[Any]:
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


@hookimpl
def vigil_templates() -> Iterable[Path]:
    return [Path(__file__).parent / "templates"]
