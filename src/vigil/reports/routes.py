"""Report downloads from the web pages: the handover and the daily report, as PDF or HTML.

A download is a write: like `vigil report`, it keeps the file under <data>/reports and records
"report.generate" in the audit log (see archive.publish), which is why the buttons POST with the
session's CSRF token rather than being plain links.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Form
from fastapi.responses import Response

from vigil.core.access import Actor
from vigil.core.clock import parse_local_time
from vigil.deployment import Deployment
from vigil.reports.archive import publish
from vigil.reports.plugin import report_day
from vigil.reports.render import Report
from vigil.web.deps import DeploymentDep, Viewer

router = APIRouter(include_in_schema=False)

Format = Annotated[Literal["pdf", "html"], Form(alias="format")]
Lang = Annotated[str, Form(max_length=8)]
_MEDIA = {"pdf": "application/pdf", "html": "text/html; charset=utf-8"}


def _download(dep: Deployment, actor: Actor, report: Report, fmt: str) -> Response:
    suffix = f".{fmt}"
    paths = publish(dep, actor, report, pdf=fmt == "pdf")
    path: Path = next(p for p in paths if p.suffix == suffix)
    # An attachment, so the HTML opens from disk rather than under this site's CSP (which forbids
    # the report's inline style).
    return Response(
        path.read_bytes(),
        media_type=_MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{path.name}"'},
    )


@router.post("/reports/handover")
def download_handover(
    dep: DeploymentDep,
    user: Viewer,
    start: Annotated[str, Form(max_length=32)],
    end: Annotated[str, Form(max_length=32)],
    fmt: Format = "pdf",
    lang: Lang = "",
) -> Response:
    """The handover report of [start, end) (local time) as the user sees it: their units only."""
    from vigil.reports.handover import handover_report

    lo, hi = parse_local_time(start, "start"), parse_local_time(end, "end")
    report = handover_report(dep, user.actor, lo, hi, lang or user.lang)
    return _download(dep, user.actor, report, fmt)


@router.post("/reports/daily")
def download_daily(
    dep: DeploymentDep,
    user: Viewer,
    day: Annotated[str, Form(max_length=10)] = "",
    fmt: Format = "pdf",
    lang: Lang = "",
) -> Response:
    """The daily situation report of a local day (default today) as the user sees it."""
    from vigil.reports.daily import daily_report

    report = daily_report(dep, user.actor, report_day(dep, day), lang or user.lang)
    return _download(dep, user.actor, report, fmt)
