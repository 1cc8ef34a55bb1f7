"""Report downloads from the duty room's pages: the handover and the daily report, PDF or HTML."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from vigil.cases.pages.feedback import REFUSALS, refused
from vigil.core.clock import parse_local_time
from vigil.reports.download import ReportFormat, download
from vigil.web.deps import DeploymentDep, Viewer

router = APIRouter(include_in_schema=False)

Format = Annotated[ReportFormat, Form(alias="format")]
Lang = Annotated[str, Form(max_length=8)]


@router.post("/reports/handover")
def download_handover(
    request: Request,
    dep: DeploymentDep,
    user: Viewer,
    start: Annotated[str, Form(max_length=32)] = "",
    end: Annotated[str, Form(max_length=32)] = "",
    fmt: Format = "pdf",
    lang: Lang = "",
) -> Response:
    """The handover report of [start, end) (local time) as the user sees it: their units only."""
    from vigil.cases.reports.handover import handover_report

    try:
        lo, hi = parse_local_time(start, "start"), parse_local_time(end, "end")
        report = handover_report(dep, user.actor, lo, hi, lang or user.lang)
    except REFUSALS as e:  # said on the handover page the form is on
        return refused(request, user.lang, e, "/duty/handover")
    return download(dep, user.actor, report, fmt)


@router.post("/reports/daily")
def download_daily(
    request: Request,
    dep: DeploymentDep,
    user: Viewer,
    day: Annotated[str, Form(max_length=10)] = "",
    fmt: Format = "pdf",
    lang: Lang = "",
) -> Response:
    """The daily situation report of a local day (default today) as the user sees it."""
    from vigil.cases.reports.daily import daily_report, report_day

    try:
        report = daily_report(dep, user.actor, report_day(dep, day, "day"), lang or user.lang)
    except REFUSALS as e:  # said on the dashboard the form is on
        return refused(request, user.lang, e, "/")
    return download(dep, user.actor, report, fmt)
