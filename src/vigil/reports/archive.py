"""Where reports go: <data>/reports (or a file the user names), every written report audited."""

from __future__ import annotations

import hashlib
from pathlib import Path

from vigil.core.access import Actor, Permission
from vigil.core.errors import ValidationError
from vigil.deployment import Deployment
from vigil.reports.render import Report, render_pdf, write_file, write_report
from vigil.store.audit import audit

_SUFFIXES = {True: (".pdf",), False: (".html", ".htm")}


def reports_dir(dep: Deployment) -> Path:
    return dep.settings.data / "reports"


def publish(
    dep: Deployment, actor: Actor, report: Report, *, pdf: bool = True, out: Path | None = None
) -> list[Path]:
    """Write a rendered report and record who wrote what (audit action 'report.generate').

    Without `out` the report goes to <data>/reports: the PDF with its HTML source when `pdf`,
    else the HTML alone. With `out` exactly one file is written there, of the format asked for.
    """
    actor.require(Permission.VIEW)
    if out is not None and out.suffix.lower() not in _SUFFIXES[pdf]:
        wanted = " or ".join(_SUFFIXES[pdf])
        raise ValidationError(
            f"{out}: a {'PDF' if pdf else 'HTML'} report needs a file ending in {wanted}"
        )
    pdf_bytes = render_pdf(report.html) if pdf else None
    with dep.store.session() as session:
        # Files are written inside the unit of work: if they cannot be written, no audit entry
        # claims they were.
        if out is not None:
            paths = [write_file(out, pdf_bytes if pdf_bytes is not None else report.html)]
        else:
            paths = write_report(
                reports_dir(dep), report.kind, report.html, pdf_bytes, when=report.period_start
            )
        audit(
            session,
            actor,
            "report.generate",
            f"report:{report.kind}",
            {
                "lang": report.lang,
                "start": report.period_start.isoformat(),
                "end": report.period_end.isoformat(),
                "files": [{"path": str(p), "sha256": _sha256(p)} for p in paths],
            },
            None if actor.unit == "*" else actor.unit,
        )
    return paths


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
