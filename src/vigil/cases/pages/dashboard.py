"""The duty room's panels of the dashboard: open alerts, reports, the trend, open cases, readiness.

Each panel reads what its officer may see, in its own read transaction, when the dashboard is
asked for (the frame calls `context(request, user)`).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from vigil.cases.pages.readiness import readiness
from vigil.cases.queue import alert_counts, alerts_over_time
from vigil.cases.service import list_cases
from vigil.core.clock import to_local
from vigil.plugins import DashboardPanel
from vigil.web.deps import WebUser, get_deployment

TREND_DAYS = 14
OPEN_CASES_SHOWN = 10


def _open_alerts(request: Request, user: WebUser) -> dict[str, Any]:
    dep = get_deployment(request)
    now = dep.now()
    with dep.store.reader() as session:
        counts = alert_counts(session, user.actor, dep.policy())
        cases = list_cases(session, user.actor, "active")
    return {
        "counts": counts,
        "total_alerts": sum(counts.values()),
        "open_case_total": len(cases),
        "overdue_total": sum(1 for c in cases if c.due_at < now),
    }


def _reports(request: Request, user: WebUser) -> dict[str, Any]:
    return {"today": to_local(get_deployment(request).now()).date().isoformat()}


def _trend(request: Request, user: WebUser) -> dict[str, Any]:
    # The chart engine brings matplotlib with it: imported when a dashboard is first drawn.
    from vigil.cases.charts import findings_per_day

    dep = get_deployment(request)
    with dep.store.reader() as session:
        points = alerts_over_time(session, user.actor, TREND_DAYS, dep.now())
    # A quiet fortnight is said in words rather than drawn as an empty chart.
    chart = findings_per_day(points, user.lang) if any(n for _day, n in points) else None
    return {"chart": chart, "trend_days": TREND_DAYS}


def _open_cases(request: Request, user: WebUser) -> dict[str, Any]:
    dep = get_deployment(request)
    with dep.store.reader() as session:
        cases = list_cases(session, user.actor, "active")
    return {"open_cases": cases[:OPEN_CASES_SHOWN], "now": dep.now()}


def _readiness(request: Request, user: WebUser) -> dict[str, Any]:
    dep = get_deployment(request)
    with dep.store.reader() as session:
        rows = readiness(session, user.actor, dep.units, dep.policy(), dep.now())
    return {"readiness": rows}


PANELS = (
    DashboardPanel("cases.open-alerts", "dashboard_open_alerts.html", _open_alerts, order=10),
    DashboardPanel("cases.reports", "dashboard_reports.html", _reports, order=20),
    DashboardPanel("cases.trend", "dashboard_trend.html", _trend, order=30),
    DashboardPanel("cases.open-cases", "dashboard_open_cases.html", _open_cases, order=40),
    DashboardPanel("cases.readiness", "dashboard_readiness.html", _readiness, order=50),
)
