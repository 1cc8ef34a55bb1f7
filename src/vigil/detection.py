"""Runs every capability's detectors and records what they find."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from time import perf_counter
from typing import cast

from vigil.core.finding import Finding
from vigil.deployment import Deployment
from vigil.plugins import plugin_manager
from vigil.store.findings import RecordResult, record_findings

log = logging.getLogger(__name__)


@dataclass
class DetectorRun:
    capability: str
    result: RecordResult = field(default_factory=RecordResult)
    seconds: float = 0.0
    error: str | None = None


def run_detectors(
    deployment: Deployment,
    only: set[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[DetectorRun]:
    """Each capability in turn; one failing capability is reported and the others still run."""
    runs: list[DetectorRun] = []
    for impl in plugin_manager().hook.vigil_detect.get_hookimpls():
        capability = impl.plugin_name.removeprefix("vigil.")
        if only and capability not in only:
            continue
        if progress:
            progress(capability)
        run = DetectorRun(capability)
        started = perf_counter()
        try:
            findings = list(cast(Iterable[Finding], impl.function(deployment=deployment)))
            with deployment.store.session() as session:
                run.result = record_findings(session, findings)
        except Exception as e:  # a detector's bug must not silence the others
            log.exception("detector %s failed", capability)
            run.error = f"{type(e).__name__}: {e}"
        run.seconds = perf_counter() - started
        runs.append(run)
    return runs
