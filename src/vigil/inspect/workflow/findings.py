"""The room's detector: every shortfall of a unit's latest closed inspection is a Finding, and so
is every known-vulnerable component its inventories showed.

Business rule: a failed control's finding has the control's severity, one step higher while its
remediation item is overdue (the occurrence is the item and its state, so the day it becomes
overdue adds one occurrence and the raised severity; reruns add nothing). A vulnerable
component is high, critical when the advisory is on CISA's Known Exploited list.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.core.clock import format_local
from vigil.core.finding import Finding, occurrence_key
from vigil.core.i18n import _
from vigil.core.severity import Severity
from vigil.inspect.controls.catalog import Catalog
from vigil.inspect.models import Evidence, Inspection, RemediationItem, RemediationStatus
from vigil.inspect.workflow.inspections import answers_of, latest_closed, overdue

CAPABILITY = "inspect"
CONTROL_RULE = "control-failed"
VULN_RULE = "known-vulnerability"
CONTROL_TITLE = "Control %(control)s not met: %(title)s"
OVERDUE_TITLE = "Control %(control)s not met, remediation overdue since %(due)s: %(title)s"
VULN_TITLE = "%(name)s %(version)s is vulnerable (%(advisory)s), fixed in %(fixed)s"


def _control_finding(
    catalog: Catalog,
    inspection: Inspection,
    item: RemediationItem,
    answer_status: str,
    note: str,
    detail: dict[str, object],
    now: datetime,
) -> Finding:
    control = catalog.controls[item.control]
    late = overdue(item, now)
    severity = Severity(min(control.severity + 1, Severity.CRITICAL)) if late else control.severity
    template = OVERDUE_TITLE if late else CONTROL_TITLE
    values = {"control": control.id, "title": control.title, "due": format_local(item.due_at)}
    values_vi = values | {"title": control.title_vi or control.title}
    return Finding(
        capability=CAPABILITY,
        rule=CONTROL_RULE,
        severity=severity,
        unit=inspection.unit,
        subject=control.id,
        title=template % values,
        title_vi=_(template, "vi") % values_vi,
        evidence={
            "inspection": inspection.id,
            "profile": inspection.profile,
            "control": control.id,
            "group": control.group,
            "status": answer_status,
            "note": note,
            "check": detail,
            "remediation": item.id,
            "owner": item.owner,
            "due_at": item.due_at.isoformat(),
            "overdue": late,
            "links": {k: list(v) for k, v in control.links.items()},
        },
        observed_at=item.due_at if late else item.created_at,
        occurrences=(occurrence_key(item.id, "overdue" if late else "open"),),
    )


def _vuln_findings(session: Session, inspection: Inspection) -> list[Finding]:
    findings = []
    rows = session.scalars(
        select(Evidence).where(
            Evidence.inspection_id == inspection.id, Evidence.kind == "inventory"
        )
    )
    for row in rows:
        for verdict in row.result.get("verdicts", []):
            for vuln in verdict.get("detail", {}).get("vulnerabilities", []):
                values = {
                    "name": vuln["name"],
                    "version": vuln["version"],
                    "advisory": vuln["advisory"],
                    "fixed": ", ".join(vuln["fixed"]) or "-",
                }
                subject = f"{vuln['ecosystem']}/{vuln['name']}@{vuln['version']} {vuln['advisory']}"
                findings.append(
                    Finding(
                        capability=CAPABILITY,
                        rule=VULN_RULE,
                        severity=Severity.CRITICAL if vuln["known_exploited"] else Severity.HIGH,
                        unit=inspection.unit,
                        subject=subject,
                        title=VULN_TITLE % values,
                        title_vi=_(VULN_TITLE, "vi") % values,
                        evidence={**vuln, "inspection": inspection.id, "inventory": row.filename},
                        observed_at=row.added_at,
                        occurrences=(occurrence_key(inspection.id, subject),),
                    )
                )
    return findings


def detect_inspection_findings(session: Session, catalog: Catalog, now: datetime) -> list[Finding]:
    findings: list[Finding] = []
    for inspection in latest_closed(session):
        answers = answers_of(session, inspection.id)
        items = session.scalars(
            select(RemediationItem)
            .where(
                RemediationItem.inspection_id == inspection.id,
                RemediationItem.status == RemediationStatus.OPEN.value,
            )
            .order_by(RemediationItem.id)
        )
        for item in items:
            if item.control not in catalog.controls:
                continue
            answer = answers.get(item.control)
            findings.append(
                _control_finding(
                    catalog,
                    inspection,
                    item,
                    answer.status if answer else "unanswered",
                    answer.note if answer else "",
                    {k: v for k, v in (answer.detail if answer else {}).items() if k != "detail"},
                    now,
                )
            )
        findings += _vuln_findings(session, inspection)
    return findings
