"""Errors of the monitor room; each names the file, line or rule it came from."""

from __future__ import annotations

from vigil.core.errors import VigilError


class MonitorError(VigilError):
    """Security monitoring could not do what was asked."""

    status_code = 422
    code = "monitor"


class RuleError(MonitorError):
    """A Sigma rule could not be parsed, validated or converted."""

    code = "sigma_rule"
