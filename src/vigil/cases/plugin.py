"""The duty room's hooks: its tables, migrations and catalog, its detectors, its commands, its part
of the demo."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import typer

from vigil.core.finding import Finding
from vigil.deployment import Deployment
from vigil.plugins import DemoContext, hookimpl

_ROOM = Path(__file__).parent


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

    mount(app)


@hookimpl
def vigil_demo(ctx: DemoContext) -> None:
    from vigil.cases.demo import build_demo

    build_demo(ctx)


@hookimpl
def vigil_demo_order() -> int:
    return 90
