"""The registry's detectors for `vigil detect`: the quality rules over what is new, and the
voter-list anomalies (bursts of moves and removals) over every move and death."""

from __future__ import annotations

from vigil.deployment import Deployment
from vigil.plugins import Detection
from vigil.registry.rules.check import check_registry
from vigil.registry.voters.anomalies import voter_anomalies


def detect_registry(deployment: Deployment) -> Detection:
    result = check_registry(deployment)
    return Detection(result.findings + voter_anomalies(deployment), result.save_progress)
