"""The alert queue and triage over the JSON API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from vigil.cases.api.filters import alert_filter
from vigil.cases.api.schemas import (
    AckIn,
    AlertPageOut,
    FalsePositiveIn,
    FindingOut,
    MergeIn,
)
from vigil.cases.finding_view import get_finding
from vigil.cases.queue import AlertFilter, alert_queue
from vigil.cases.triage import acknowledge, mark_false_positive, merge_findings
from vigil.store.personal import reveal_evidence
from vigil.web.deps import DeploymentDep, PersonalViewer, Triager, Viewer
from vigil.web.schemas import ERROR_RESPONSES, RowId

router = APIRouter(prefix="/api", tags=["alerts"], responses=ERROR_RESPONSES)


@router.get("/alerts", summary="Alert queue", response_model=AlertPageOut)
def api_alerts(
    dep: DeploymentDep, user: Viewer, filt: Annotated[AlertFilter, Depends(alert_filter)]
) -> AlertPageOut:
    """Open alerts the caller's units may see, worst and newest first."""
    with dep.store.reader() as session:
        page = alert_queue(session, user.actor, dep.policy(), filt)
        return AlertPageOut(
            items=[FindingOut.of(row) for row in page.items],
            total=page.total,
            total_capped=page.total_capped,
            threshold=page.threshold.label,
            phase=page.phase.value,
            page=page.page,
            per_page=page.per_page,
        )


@router.get("/findings/{finding_id}", summary="Read a finding", response_model=FindingOut)
def api_finding(dep: DeploymentDep, user: Viewer, finding_id: RowId) -> FindingOut:
    """The finding with its personal data masked; reading it is not audited."""
    with dep.store.reader() as session:
        return FindingOut.of(get_finding(session, user.actor, finding_id))


@router.post(
    "/findings/{finding_id}/reveal",
    summary="Reveal the personal data of a finding",
    response_model=FindingOut,
)
def api_reveal(dep: DeploymentDep, user: PersonalViewer, finding_id: RowId) -> FindingOut:
    """The finding with its personal data unmasked. Needs the view_personal permission; each
    reveal is audited as personal.view with the fields shown."""
    with dep.store.session() as session:
        row = get_finding(session, user.actor, finding_id)
        return FindingOut.of(row, reveal_evidence(session, user.actor, row, channel="api"))


@router.post("/findings/merge", summary="Merge findings", response_model=FindingOut)
def api_merge(dep: DeploymentDep, user: Triager, body: MergeIn) -> FindingOut:
    """Fold other findings into a target finding; returns the target."""
    with dep.store.session() as session:
        return FindingOut.of(merge_findings(session, user.actor, body.target_id, body.other_ids))


@router.post(
    "/findings/{finding_id}/ack", summary="Acknowledge an alert", response_model=FindingOut
)
def api_ack(
    dep: DeploymentDep, user: Triager, finding_id: RowId, body: AckIn | None = None
) -> FindingOut:
    """Acknowledge: a duty officer has seen the alert and owns the next step."""
    with dep.store.session() as session:
        return FindingOut.of(
            acknowledge(session, user.actor, finding_id, body.note if body else "")
        )


@router.post(
    "/findings/{finding_id}/false-positive",
    summary="Mark an alert as a false positive",
    response_model=FindingOut,
)
def api_false_positive(
    dep: DeploymentDep, user: Triager, finding_id: RowId, body: FalsePositiveIn
) -> FindingOut:
    """Close the alert as a false positive, with the reason (kept in the audit log)."""
    with dep.store.session() as session:
        return FindingOut.of(mark_false_positive(session, user.actor, finding_id, body.reason))
