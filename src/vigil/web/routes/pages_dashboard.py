"""The dashboard: phase, open alerts by severity, readiness per unit, the trend, open cases."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from vigil.cases.queue import alert_counts, alerts_over_time
from vigil.cases.service import list_cases
from vigil.core.clock import to_local
from vigil.core.i18n import _
from vigil.web.charts import daily_bars_svg
from vigil.web.deps import DeploymentDep, Viewer
from vigil.web.readiness import readiness
from vigil.web.templating import markup, render

router = APIRouter(include_in_schema=False)

TREND_DAYS = 14
OPEN_CASES_SHOWN = 10


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, dep: DeploymentDep, user: Viewer) -> Response:
    now, policy, actor = dep.now(), dep.policy(), user.actor
    with dep.store.reader() as session:
        counts = alert_counts(session, actor, policy)
        trend = alerts_over_time(session, actor, TREND_DAYS, now)
        units = readiness(session, actor, dep.units, policy, now)
        cases = list_cases(session, actor, "active")
        chart = daily_bars_svg(
            trend,
            _("New findings per day", user.lang),
            _("No findings in this period.", user.lang),
        )
        return render(
            request,
            "dashboard.html",
            {
                "counts": counts,
                "total_alerts": sum(counts.values()),
                "chart": markup(chart),
                "trend_days": TREND_DAYS,
                "readiness": units,
                "open_cases": cases[:OPEN_CASES_SHOWN],
                "open_case_total": len(cases),
                "overdue_total": sum(1 for c in cases if c.due_at < now),
                "now": now,
                "today": to_local(now).date().isoformat(),
                "phase_ends": policy.ends,
            },
        )
