"""The room's part of `vigil detect`: every detector over what the lake holds, at once.

Silent sensors, every rule set over the batches it has not scanned, indicators over the events.
Nothing is written here: the findings go back with the rule sets' scanned marks, which the
caller saves in the transaction that stores the findings (`vigil.plugins.Detection`), so a
store that fails in between loses neither: the next run scans those batches again.
"""

from __future__ import annotations

from functools import partial

from vigil.deployment import Deployment
from vigil.monitor.detect.indicators.match import detect_indicators
from vigil.monitor.detect.sensors import silence_findings
from vigil.monitor.detect.sigma.scan import save_marks, scan_all
from vigil.plugins import Detection


def detect_stored(deployment: Deployment) -> Detection:
    """What every detector of the room finds now, and the progress to save with it."""
    findings = silence_findings(deployment)
    scans, sigma = scan_all(deployment, deployment.system("detect"), record=False)
    findings += sigma + detect_indicators(deployment)
    return Detection(findings, partial(save_marks, scans=scans))
