"""The duty room's panels of the dashboard: open alerts, what to do next (the most urgent alerts
and the overdue cases), reports, the trend, open cases, readiness (units with work first).

Each panel reads what its officer may see, in its own read transaction, when the dashboard is
asked for (the frame calls `context(request, user)`).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from vigil.cases.alert_row import alert_row
from vigil.cases.pages.readiness import UnitReadiness, readiness
from vigil.cases.queue import AlertFilter, alert_counts, alert_queue, alerts_over_time
from vigil.cases.service import list_cases
from vigil.core.clock import to_local
from vigil.plugins import DashboardPanel, capability_labels
from vigil.web.deps import WebUser, get_deployment

TREND_DAYS = 14
OPEN_CASES_SHOWN = 10
#: How many alerts and overdue cases "what to do next" lists: a few, the rest are a click away.
NEXT_SHOWN = 5
#: Units with work waiting shown open in the readiness table; the others are folded with the
#: quiet units, so the table stays one screen long on a busy day.
BUSY_SHOWN = 10


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


def _next_actions(request: Request, user: WebUser) -> dict[str, Any]:
    """The most urgent open alerts (worst, then latest, as the queue orders them) and the
    overdue cases (worst, then the longest overdue), a few of each."""
    dep = get_deployment(request)
    now = dep.now()
    labels = capability_labels()
    with dep.store.reader() as session:
        page = alert_queue(session, user.actor, dep.policy(), AlertFilter(per_page=NEXT_SHOWN))
        overdue = list_cases(session, user.actor, "active", overdue_at=now)
    return {
        "next_alerts": [(row, alert_row(row, user.lang, labels)) for row in page.items],
        "alerts_total": page.total,
        "overdue_cases": overdue[:NEXT_SHOWN],
        "overdue_total": len(overdue),
        "now": now,
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


def busy_first(rows: list[UnitReadiness]) -> tuple[list[UnitReadiness], list[UnitReadiness]]:
    """Units with work waiting, late ones first, then by overdue cases, open cases and open
    alerts; and the quiet units, in the tree's order (the page folds them)."""
    busy = [r for r in rows if r.state != "ok"]
    busy.sort(key=lambda r: (r.state != "late", -r.overdue, -r.open_cases, -r.open_alerts))
    return busy, [r for r in rows if r.state == "ok"]


def _readiness(request: Request, user: WebUser) -> dict[str, Any]:
    dep = get_deployment(request)
    with dep.store.reader() as session:
        rows = readiness(session, user.actor, dep.units, dep.policy(), dep.now())
    busy, quiet = busy_first(rows)
    return {"busy": busy[:BUSY_SHOWN], "more_busy": busy[BUSY_SHOWN:], "quiet": quiet}


PANELS = (
    DashboardPanel("cases.open-alerts", "dashboard_open_alerts.html", _open_alerts, order=10),
    DashboardPanel("cases.next-actions", "dashboard_next.html", _next_actions, order=11),
    DashboardPanel("cases.reports", "dashboard_reports.html", _reports, order=20),
    DashboardPanel("cases.trend", "dashboard_trend.html", _trend, order=30),
    DashboardPanel("cases.open-cases", "dashboard_open_cases.html", _open_cases, order=40),
    DashboardPanel("cases.readiness", "dashboard_readiness.html", _readiness, order=50),
)
