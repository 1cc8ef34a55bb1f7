"""Query-string filters of the alert queue, shared by the page and the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from vigil.cases.queue import MAX_PER_PAGE, AlertFilter
from vigil.core.severity import Severity


def alert_filter(
    unit: Annotated[
        str | None, Query(max_length=32, description="Unit code; includes units under it.")
    ] = None,
    capability: Annotated[
        str | None, Query(max_length=32, description="e.g. monitor, infowatch.")
    ] = None,
    severity: Annotated[
        str | None,
        Query(
            max_length=16, description="Minimum severity (info..critical); never below the phase's."
        ),
    ] = None,
    status: Annotated[
        str | None,
        Query(max_length=20, description="A finding status; default: new and acknowledged."),
    ] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 50,
) -> AlertFilter:
    """Empty strings (an untouched form field) mean 'no filter'."""
    return AlertFilter(
        unit=unit or None,
        capability=capability or None,
        min_severity=Severity.parse(severity) if severity else None,
        status=status or None,
        page=page,
        per_page=per_page,
    )
