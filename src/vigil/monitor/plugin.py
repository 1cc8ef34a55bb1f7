"""The monitor room's hooks: its commands, and its detectors for `vigil detect`.

Each part of the room adds itself here: Sigma and log ingest (`vigil monitor`, `vigil rules`);
YARA and indicators of compromise mount their own commands next to them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from vigil.core.finding import Finding
from vigil.plugins import DemoContext, hookimpl

if TYPE_CHECKING:
    from vigil.deployment import Deployment


@hookimpl
def vigil_cli(app: Any) -> None:
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
