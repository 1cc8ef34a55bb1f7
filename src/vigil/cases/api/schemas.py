"""Request and response bodies of the duty room's JSON API: findings, alerts, cases, the roster."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from vigil.cases.duty import Gap
from vigil.cases.models import Case, CaseStatus
from vigil.core.personal import mask_evidence, personal_fields
from vigil.core.severity import Severity
from vigil.store.models import FindingRow
from vigil.web.schemas import OrmOut, RowId


class FindingOut(BaseModel):
    id: int
    fingerprint: str
    capability: str
    rule: str
    severity: str
    unit: str
    subject: str
    title: str
    title_vi: str
    count: int
    first_seen: datetime
    last_seen: datetime
    status: str
    case: int | None
    evidence: dict[str, Any] = Field(
        description="Personal data (evidence.personal) masked unless personal_revealed."
    )
    personal_fields: list[str] = Field(
        description="Keys of evidence.personal; POST /api/findings/{id}/reveal unmasks them."
    )
    personal_revealed: bool

    @classmethod
    def of(cls, row: FindingRow, revealed: dict[str, Any] | None = None) -> FindingOut:
        """The finding with masked evidence, or with `revealed` (from store.personal) as is."""
        return cls(
            id=row.id,
            fingerprint=row.fingerprint,
            capability=row.capability,
            rule=row.rule,
            severity=Severity(row.severity).label,
            unit=row.unit,
            subject=row.subject,
            title=row.title,
            title_vi=row.title_vi,
            count=row.count,
            first_seen=row.first_seen,
            last_seen=row.last_seen,
            status=row.status,
            case=row.case_id,
            evidence=mask_evidence(row.evidence) if revealed is None else revealed,
            personal_fields=personal_fields(row.evidence),
            personal_revealed=revealed is not None,
        )


class AlertPageOut(BaseModel):
    items: list[FindingOut]
    total: int = Field(description="Matching alerts; a lower bound when total_capped is true.")
    total_capped: bool
    threshold: str = Field(
        description="Lowest severity shown: the phase's threshold or the filter's."
    )
    phase: str
    page: int
    per_page: int


class AckIn(BaseModel):
    note: str = Field("", max_length=2000)


class FalsePositiveIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class MergeIn(BaseModel):
    target_id: RowId = Field(description="The finding that stays.")
    other_ids: list[RowId] = Field(
        min_length=1, max_length=500, description="Findings folded into it."
    )


class EscalateIn(BaseModel):
    finding_ids: list[RowId] = Field(min_length=1, max_length=500)
    title: str | None = Field(None, max_length=300)
    playbook: str | None = Field(
        None, max_length=64, description="Playbook key; suggested when absent."
    )
    owner: str | None = Field(None, max_length=64)


class CaseOut(OrmOut):
    id: int
    number: str
    title: str
    unit: str
    severity: str
    status: str
    owner: str | None
    playbook: str | None
    created_at: datetime
    due_at: datetime
    closed_at: datetime | None
    created_by: str
    summary: str
    overdue: bool

    @classmethod
    def of(cls, case: Case, now: datetime) -> CaseOut:
        return cls(
            id=case.id,
            number=case.number,
            title=case.title,
            unit=case.unit,
            severity=Severity(case.severity).label,
            status=case.status,
            owner=case.owner,
            playbook=case.playbook,
            created_at=case.created_at,
            due_at=case.due_at,
            closed_at=case.closed_at,
            created_by=case.created_by,
            summary=case.summary,
            overdue=case.status != CaseStatus.CLOSED.value and case.due_at < now,
        )


class StepOut(OrmOut):
    position: int
    title_en: str
    title_vi: str
    done_by: str | None
    done_at: datetime | None
    note: str
    after: list[int] = Field(description="Earlier steps this one waits for.")
    not_applicable: str | None = Field(
        description="Why the step did not apply (then done_by/done_at say who settled it)."
    )


class EventOut(OrmOut):
    id: int
    at: datetime
    actor: str
    kind: str
    text: str
    detail: dict[str, Any]


class CaseDetailOut(BaseModel):
    case: CaseOut
    steps: list[StepOut]
    timeline: list[EventOut]
    findings: list[FindingOut]


class StepDoneIn(BaseModel):
    note: str = Field("", max_length=2000)


class NotApplicableIn(BaseModel):
    reason: str = Field(min_length=1, max_length=10_000)


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=10_000)


class AssignIn(BaseModel):
    owner: str = Field(min_length=1, max_length=64, description="Username of the new owner.")


class CloseIn(BaseModel):
    summary: str = Field(min_length=1, max_length=10_000)


class ShiftOut(OrmOut):
    id: int
    unit: str
    username: str
    role_on_shift: str
    starts: datetime
    ends: datetime
    created_by: str


class ShiftIn(BaseModel):
    unit: str = Field(max_length=32)
    username: str = Field(max_length=64)
    starts: datetime = Field(description="UTC unless an offset is given.")
    ends: datetime
    role_on_shift: str = Field("officer", description="lead or officer")


class GapOut(BaseModel):
    start: datetime
    end: datetime
    hours: float

    @classmethod
    def of(cls, gap: Gap) -> GapOut:
        return cls(start=gap.start, end=gap.end, hours=round(gap.hours, 2))
