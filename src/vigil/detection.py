"""Runs every capability's detectors and records what they find.

A room's findings and its detectors' progress marks are saved in one transaction: if the store
fails, neither is kept, and the next run looks again and finds the same.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from time import perf_counter
from typing import cast

from sqlalchemy.exc import SQLAlchemyError

from vigil.core.errors import VigilError
from vigil.core.finding import Finding
from vigil.deployment import Deployment
from vigil.plugins import Detection, plugin_manager
from vigil.store.db import store_error
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
        capability = impl.plugin_name
        if only and capability not in only:
            continue
        if progress:
            progress(capability)
        run = DetectorRun(capability)
        started = perf_counter()
        try:
            detect = cast(Callable[..., Detection | Iterable[Finding]], impl.function)
            run.result = _detect_and_record(deployment, detect)
        except VigilError as e:  # said by the room or the store: one line, no trace
            log.error("detector %s failed: %s", capability, e)
            run.error = f"{type(e).__name__}: {e}"
        except Exception as e:  # a detector's bug must not silence the others
            log.exception("detector %s failed", capability)
            run.error = f"{type(e).__name__}: {e}"
        run.seconds = perf_counter() - started
        runs.append(run)
    return runs


def _detect_and_record(
    deployment: Deployment, detect: Callable[..., Detection | Iterable[Finding]]
) -> RecordResult:
    """One room's detectors, then its findings and progress marks in one transaction."""
    found = detect(deployment=deployment)
    detection = found if isinstance(found, Detection) else Detection(list(found))
    try:
        with deployment.store.session() as session:
            result = record_findings(session, detection.findings)
            if detection.save_progress is not None:
                detection.save_progress(session)
    except SQLAlchemyError as e:
        doing = f"storing {len(detection.findings)} findings"
        raise store_error(e, doing, "nothing of this run was kept; run it again") from e
    return result
