"""The information watch room's errors."""

from __future__ import annotations

from vigil.core.errors import VigilError


class InfowatchError(VigilError):
    """A problem of the information watch (its rules, fact sheet, watchlist or advisories)."""

    status_code = 400
    code = "infowatch"
