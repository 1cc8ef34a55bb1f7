"""Errors of the candidates room."""

from __future__ import annotations

from vigil.core.errors import VigilError


class CandidatesError(VigilError):
    """A declaration file or mapping that cannot be read at all (a bad row is quarantined)."""

    code = "candidates"
    status_code = 422
