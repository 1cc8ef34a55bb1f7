"""Writing, approving and withdrawing advisories.

The two-person rule: an advisory goes public only when a second officer, not its author,
approves it; approval publishes it (the public site, the Atom feed and the PDF notice are
written again). Every step is in the audit log with who and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.core.access import Actor, Permission
from vigil.core.errors import ConflictError, NotFoundError, PermissionDenied, ValidationError
from vigil.infowatch.models import Advisory
from vigil.infowatch.text import clean
from vigil.store.audit import audit
from vigil.store.models import FindingRow

KINDS = ("warning", "information")


@dataclass(frozen=True)
class AdvisoryDraft:
    kind: str
    title_vi: str
    title_en: str
    body_vi: str
    body_en: str
    finding_ids: tuple[int, ...] = ()

    def checked(self) -> AdvisoryDraft:
        if self.kind not in KINDS:
            raise ValidationError(f"kind must be one of {', '.join(KINDS)}")
        texts = [
            clean(t).strip() for t in (self.title_vi, self.title_en, self.body_vi, self.body_en)
        ]
        if not all(texts):
            raise ValidationError(
                "an advisory needs a title and a text in Vietnamese and in English"
            )
        if any(len(t) > 300 for t in texts[:2]) or any(len(t) > 20_000 for t in texts[2:]):
            raise ValidationError("title up to 300 characters, text up to 20,000")
        title_vi, title_en, body_vi, body_en = texts
        ids = tuple(sorted(set(self.finding_ids)))
        return AdvisoryDraft(self.kind, title_vi, title_en, body_vi, body_en, ids)


def create_advisory(
    session: Session, actor: Actor, draft: AdvisoryDraft, *, unit: str, now: datetime
) -> Advisory:
    """A draft advisory answering the findings named (each must be one the author may see)."""
    actor.require(Permission.ANALYSE)
    draft = draft.checked()
    for finding_id in draft.finding_ids:
        row = session.get(FindingRow, finding_id)
        if row is None or not actor.sees(row.unit):
            raise NotFoundError(f"no finding {finding_id}")
    advisory = Advisory(
        kind=draft.kind,
        unit=unit,
        title_vi=draft.title_vi,
        title_en=draft.title_en,
        body_vi=draft.body_vi,
        body_en=draft.body_en,
        finding_ids=list(draft.finding_ids),
        status="draft",
        author=actor.username,
        created_at=now,
        updated_at=now,
    )
    session.add(advisory)
    session.flush()
    audit(
        session,
        actor,
        "infowatch.advisory.create",
        f"advisory:{advisory.id}",
        {"findings": list(draft.finding_ids), "kind": draft.kind},
        unit=unit,
    )
    return advisory


def approve_advisory(
    session: Session, actor: Actor, advisory_id: int, *, now: datetime
) -> Advisory:
    """Approve and publish a draft. The approver must not be its author (two-person rule)."""
    actor.require(Permission.ANALYSE)
    advisory = session.get(Advisory, advisory_id)
    if advisory is None or not actor.sees(advisory.unit):
        raise NotFoundError(f"no advisory {advisory_id}")
    if advisory.status != "draft":
        raise ConflictError(f"advisory {advisory_id} is {advisory.status}, not a draft")
    if advisory.author == actor.username:
        audit(
            session,
            actor,
            "infowatch.advisory.approve-refused",
            f"advisory:{advisory_id}",
            {"reason": "author"},
            unit=advisory.unit,
        )
        raise PermissionDenied(
            "the author of an advisory may not approve it: a second officer must"
        )
    advisory.status = "published"
    advisory.approver = actor.username
    advisory.published_at = now
    advisory.updated_at = now
    audit(
        session,
        actor,
        "infowatch.advisory.approve",
        f"advisory:{advisory_id}",
        {"author": advisory.author},
        unit=advisory.unit,
    )
    return advisory


def withdraw_advisory(
    session: Session, actor: Actor, advisory_id: int, *, now: datetime
) -> Advisory:
    actor.require(Permission.ANALYSE)
    advisory = session.get(Advisory, advisory_id)
    if advisory is None or not actor.sees(advisory.unit):
        raise NotFoundError(f"no advisory {advisory_id}")
    advisory.status = "withdrawn"
    advisory.updated_at = now
    audit(
        session,
        actor,
        "infowatch.advisory.withdraw",
        f"advisory:{advisory_id}",
        {},
        unit=advisory.unit,
    )
    return advisory


def list_advisories(session: Session, actor: Actor) -> list[Advisory]:
    rows = session.scalars(select(Advisory).order_by(Advisory.id.desc()))
    return [a for a in rows if actor.sees(a.unit)]


def published(session: Session) -> list[Advisory]:
    return list(
        session.scalars(
            select(Advisory)
            .where(Advisory.status == "published")
            .order_by(Advisory.published_at.desc(), Advisory.id.desc())
        )
    )
