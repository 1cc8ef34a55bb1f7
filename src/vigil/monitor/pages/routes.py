"""The monitor's pages: event search, detections, rule coverage by tactic, sensor health."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from vigil.core.clock import parse_optional_time, to_local, to_utc
from vigil.monitor.review.search import FieldFilter, coverage
from vigil.monitor.review.views import (
    KINDS,
    detection_detail,
    detection_list,
    event_fields,
    event_page,
    sensor_health,
)
from vigil.web.deps import DeploymentDep, Viewer
from vigil.web.schemas import RowId
from vigil.web.templating import render
from vigil.web.unit_tree import walk

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50


def local_seconds(value: Any) -> str:
    """An event's time to the second in the province's time; text that is not a time as is."""
    if isinstance(value, datetime):
        return to_local(to_utc(value)).strftime("%Y-%m-%d %H:%M:%S")
    return "" if value is None else str(value)


def _shown_fields(row: dict[str, Any]) -> list[tuple[str, str]]:
    return [(k, str(v)) for k, v in event_fields(row).items()]


@router.get("/monitor/events", response_class=HTMLResponse)
def events_page(
    request: Request,
    dep: DeploymentDep,
    user: Viewer,
    host: Annotated[str, Query(max_length=255)] = "",
    since: Annotated[str, Query(max_length=32)] = "",
    until: Annotated[str, Query(max_length=32)] = "",
    field: Annotated[list[str] | None, Query()] = None,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> Response:
    wanted = [f for f in field or [] if f.strip()]
    result = event_page(
        dep,
        user.actor,
        host=host.strip() or None,
        since=parse_optional_time(since, "since"),
        until=parse_optional_time(until, "until"),
        filters=[FieldFilter.parse(f) for f in wanted],
        page=page,
        size=PAGE_SIZE,
    )
    params = [("host", host), ("since", since), ("until", until)] + [("field", f) for f in wanted]
    kept = [(k, v) for k, v in params if v]
    return render(
        request,
        "monitor_events.html",
        {
            "host": host,
            "since": since,
            "until": until,
            "fields": wanted,
            "result": result,
            "rows": [(row, _shown_fields(row)) for row in result.items],
            "local_seconds": local_seconds,
            "page_url": lambda n: "/monitor/events?" + urlencode([*kept, ("page", str(n))]),
        },
    )


@router.get("/monitor/detections", response_class=HTMLResponse)
def detections_page(
    request: Request,
    dep: DeploymentDep,
    user: Viewer,
    kind: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    chosen = kind if kind in KINDS else ""
    with dep.store.reader() as session:
        rows = detection_list(session, user.actor, kind=chosen or None)
        return render(
            request,
            "monitor_detections.html",
            {"rows": rows, "kind": chosen, "kinds": KINDS},
        )


@router.get("/monitor/detections/{finding_id}", response_class=HTMLResponse)
def detection_page(
    request: Request, dep: DeploymentDep, user: Viewer, finding_id: RowId
) -> Response:
    with dep.store.reader() as session:
        detail = detection_detail(session, user.actor, finding_id)
        return render(
            request,
            "monitor_detection.html",
            {
                "d": detail,
                "f": detail.finding,
                "events": [(e, _shown_fields(e)) for e in detail.events],
                "local_seconds": local_seconds,
            },
        )


@router.get("/monitor/coverage", response_class=HTMLResponse)
def coverage_page(request: Request, dep: DeploymentDep, user: Viewer) -> Response:
    with dep.store.reader() as session:
        rows = coverage(session, user.actor)
    return render(
        request,
        "monitor_coverage.html",
        {
            "rows": rows,
            "total_enabled": sum(r.enabled for r in rows),
            "total_fired": sum(r.fired for r in rows),
        },
    )


@router.get("/monitor/sensors", response_class=HTMLResponse)
def sensors_page(request: Request, dep: DeploymentDep, user: Viewer) -> Response:
    limit, health = sensor_health(dep, user.actor)
    by_unit: dict[str, list[Any]] = {}
    for h in health:
        by_unit.setdefault(h.sensor.unit, []).append(h)
    order = [u.code for u, _depth in walk(dep.units)]
    units = sorted(by_unit, key=lambda c: (order.index(c) if c in order else len(order), c))
    return render(
        request,
        "monitor_sensors.html",
        {
            "limit": limit,
            "groups": [(code, by_unit[code]) for code in units],
            "silent": sum(1 for h in health if h.silent),
            "local_seconds": local_seconds,
        },
    )
