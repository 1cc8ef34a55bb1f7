"""A report sent from a web page as a file: kept and audited like `vigil report`, then downloaded.

A download is a write (a file under <data>/reports and "report.generate" in the audit log, see
archive.publish), which is why a room's download buttons POST with the session's CSRF token rather
than being plain links.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from fastapi.responses import Response

from vigil.core.access import Actor
from vigil.deployment import Deployment
from vigil.reports.archive import publish
from vigil.reports.render import Report

ReportFormat = Literal["pdf", "html"]
_MEDIA = {"pdf": "application/pdf", "html": "text/html; charset=utf-8"}


def download(dep: Deployment, actor: Actor, report: Report, fmt: ReportFormat) -> Response:
    """Publish `report` as `actor` and answer with the file of the format asked for."""
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
