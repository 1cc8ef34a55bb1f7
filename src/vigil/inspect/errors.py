"""Errors of the inspection room; each names the file, line or record it came from."""

from __future__ import annotations

from vigil.core.errors import VigilError


class InspectError(VigilError):
    """An inspection could not do what was asked."""

    status_code = 422
    code = "inspect"


class CatalogError(InspectError):
    """A control catalog or profile is not valid."""

    code = "catalog"


class EvidenceError(InspectError):
    """A piece of evidence could not be read."""

    code = "evidence"


class VulnDataError(InspectError):
    """Vulnerability data or an inventory could not be read."""

    code = "vulns"
