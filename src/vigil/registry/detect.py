"""The registry's detectors for `vigil detect`: the quality rules over what is new."""

from __future__ import annotations

from vigil.deployment import Deployment
from vigil.plugins import Detection
from vigil.registry.rules.check import check_registry


def detect_registry(deployment: Deployment) -> Detection:
    result = check_registry(deployment)
    return Detection(result.findings, result.save_progress)
