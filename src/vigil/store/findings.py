"""Writes findings with fingerprint dedupe: a repeat updates one row, never adds a second."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import Table, bindparam, case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from vigil.core.clock import utcnow
from vigil.core.finding import Finding, FindingStatus
from vigil.store.models import FindingOccurrence, FindingRow

BATCH = 2000


@dataclass
class RecordResult:
    """What one call to `record_findings` changed."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    ids: dict[str, int] = field(default_factory=dict)

    def __iadd__(self, other: RecordResult) -> RecordResult:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.ids.update(other.ids)
        return self


@dataclass
class _Pending:
    finding: Finding
    keys: dict[str, datetime]
    first: datetime
    last: datetime


def _chunks(items: Iterable[Finding], size: int) -> Iterator[list[Finding]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def _insert(session: Session, table: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def record_findings(session: Session, findings: Iterable[Finding]) -> RecordResult:
    """Store findings; counts are distinct occurrence keys, so re-running is a no-op."""
    result = RecordResult()
    for chunk in _chunks(findings, BATCH):
        result += _record_batch(session, chunk)
    return result


def _record_batch(session: Session, batch: list[Finding]) -> RecordResult:
    pending: dict[str, _Pending] = {}
    for f in batch:
        fp = f.fingerprint
        times = f.occurred_at
        first = min(times) if times else f.observed_at
        last = max(times) if times else f.observed_at
        p = pending.get(fp)
        if p is None:
            p = pending[fp] = _Pending(f, {}, first, last)
        else:
            p.first = min(p.first, first)
            if last >= p.last:
                p.finding, p.last = f, last
        keys = p.keys
        for key, seen in f.occurrence_times():
            if key not in keys:
                keys[key] = seen

    now = utcnow()
    findings = FindingRow.__table__
    rows = [
        {
            "fingerprint": fp,
            "capability": p.finding.capability,
            "rule": p.finding.rule,
            "severity": int(p.finding.severity),
            "unit": p.finding.unit,
            "subject": p.finding.subject[:500],
            "title": p.finding.title[:500],
            "title_vi": p.finding.title_vi[:500],
            "evidence": p.finding.evidence,
            "first_seen": p.first,
            "last_seen": p.first,
            "count": 0,
            "status": FindingStatus.NEW.value,
            "status_reason": "",
            "updated_at": now,
        }
        for fp, p in pending.items()
    ]
    insert = _insert(session, findings)
    session.execute(insert.on_conflict_do_nothing(index_elements=["fingerprint"]), rows)
    id_rows = session.execute(
        select(
            FindingRow.id, FindingRow.fingerprint, FindingRow.count, FindingRow.merged_into
        ).where(FindingRow.fingerprint.in_(list(pending)))
    ).all()
    ids = {fp: fid for fid, fp, _, _ in id_rows}
    was_new = {fp for _, fp, count, _ in id_rows if count == 0}
    # A merged finding that happens again counts on the finding it was merged into.
    target = _merge_targets(session, {fid: into for fid, _, _, into in id_rows})
    dest = {fp: target.get(fid, fid) for fp, fid in ids.items()}

    occurrences = FindingOccurrence.__table__
    added: dict[int, tuple[int, datetime]] = {}
    # A row this call created has no occurrences yet: all its keys are new, and they go in
    # without reading anything back (most of what a detector reports over new data).
    fresh = {fp for fp in pending if fp in was_new and dest[fp] == ids[fp]}
    if fresh:
        _insert_fresh(
            session,
            [(ids[fp], key, seen) for fp in fresh for key, seen in pending[fp].keys.items()],
        )
        for fp in fresh:
            keys = pending[fp].keys
            added[ids[fp]] = (len(keys), max(keys.values()))
    occ_rows = [
        {"finding_id": dest[fp], "key": key, "seen_at": seen}
        for fp, p in pending.items()
        if fp not in fresh
        for key, seen in p.keys.items()
    ]
    occ_insert = (
        _insert(session, occurrences)
        .on_conflict_do_nothing(index_elements=["finding_id", "key"])
        .returning(occurrences.c.finding_id, occurrences.c.seen_at)
    )
    for start in range(0, len(occ_rows), 500):
        for fid, seen in session.execute(occ_insert, occ_rows[start : start + 500]):
            n, last = added.get(fid, (0, seen))
            added[fid] = (n + 1, max(last, seen))

    result = RecordResult(ids=ids)
    for fp in pending:
        if dest[fp] not in added:
            result.unchanged += 1
        elif fp in was_new:
            result.created += 1
        else:
            result.updated += 1
    updates, counts_only = [], []
    # A row created just now already holds its finding's title and evidence; a merged finding's
    # target keeps its own: both only count.
    own = {
        dest[fp]: pending[fp].finding for fp in pending if dest[fp] == ids[fp] and fp not in fresh
    }
    for fid, (n, last) in added.items():
        values = {"b_id": fid, "b_n": n, "b_last": last, "b_now": now}
        finding = own.get(fid)
        if finding is None:
            counts_only.append(values)
            continue
        values |= {
            "b_severity": int(finding.severity),
            "b_evidence": finding.evidence,
            "b_title": finding.title[:500],
            "b_title_vi": finding.title_vi[:500],
        }
        updates.append(values)
    if counts_only:
        session.execute(_UPDATE_COUNT, counts_only)
    if updates:
        session.execute(_UPDATE, updates)
    return result


def _insert_fresh(session: Session, rows: list[tuple[int, str, datetime]]) -> None:
    """Occurrences (finding id, key, time) of findings created in this transaction, straight
    to the driver.

    Tens of thousands at a time: through the ORM's parameter handling they took three times
    as long (measured). Times are bound as the column type binds them.
    """
    dialect = session.get_bind().dialect
    column = FindingOccurrence.__table__.c.seen_at
    bind = column.type.bind_processor(dialect)
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {FindingOccurrence.__tablename__} (finding_id, key, seen_at) "
        f"VALUES ({mark}, {mark}, {mark}) ON CONFLICT (finding_id, key) DO NOTHING"
    )
    if bind is not None:
        rows = [(fid, key, bind(seen)) for fid, key, seen in rows]
    session.connection().exec_driver_sql(sql, rows)


def _merge_targets(session: Session, merged_into: dict[int, int | None]) -> dict[int, int]:
    """For each merged finding, the finding at the end of its merge chain."""
    target = {fid: into for fid, into in merged_into.items() if into is not None}
    for _ in range(8):  # chains are short: a merge target is itself rarely merged later
        hops = set(target.values())
        if not hops:
            break
        rows = session.execute(
            select(FindingRow.id, FindingRow.merged_into).where(
                FindingRow.id.in_(hops), FindingRow.merged_into.is_not(None)
            )
        ).all()
        further = {fid: into for fid, into in rows if into is not None}
        if not further:
            break
        target = {fid: further.get(to, to) for fid, to in target.items()}
    return target


_T: Table = FindingRow.__table__  # type: ignore[assignment]
_REOPEN = func.coalesce(
    func.nullif(_T.c.status, FindingStatus.RESOLVED.value), FindingStatus.NEW.value
)
_LATEST = case((_T.c.last_seen < bindparam("b_last"), bindparam("b_last")), else_=_T.c.last_seen)
# Occurrences of a finding created in the same call, or that arrived through a merged finding:
# count them, keep the row's own title and evidence.
_UPDATE_COUNT = (
    update(_T)
    .where(_T.c.id == bindparam("b_id"))
    .values(
        count=_T.c.count + bindparam("b_n"),
        last_seen=_LATEST,
        status=_REOPEN,
        updated_at=bindparam("b_now"),
    )
)
# A resolved finding that happens again needs eyes again; a false positive stays suppressed.
_UPDATE = (
    update(_T)
    .where(_T.c.id == bindparam("b_id"))
    .values(
        count=_T.c.count + bindparam("b_n"),
        last_seen=_LATEST,
        severity=bindparam("b_severity"),
        evidence=bindparam("b_evidence"),
        title=bindparam("b_title"),
        title_vi=bindparam("b_title_vi"),
        status=_REOPEN,
        updated_at=bindparam("b_now"),
    )
)


def finding_dict(row: FindingRow) -> dict[str, Any]:
    """The public shape of a finding (CLI --json, API): scripts rely on these keys.

    Personal data in the evidence is masked; `vigil.store.personal` reveals it, audited.
    """
    from vigil.core.personal import mask_evidence
    from vigil.core.severity import Severity

    return {
        "id": row.id,
        "fingerprint": row.fingerprint,
        "capability": row.capability,
        "rule": row.rule,
        "severity": Severity(row.severity).label,
        "unit": row.unit,
        "subject": row.subject,
        "title": row.title,
        "title_vi": row.title_vi,
        "count": row.count,
        "first_seen": row.first_seen.isoformat(),
        "last_seen": row.last_seen.isoformat(),
        "status": row.status,
        "case": row.case_id,
        "evidence": mask_evidence(row.evidence),
    }


def list_findings(
    session: Session,
    *,
    scope: frozenset[str] | None = None,
    capability: str | None = None,
    min_severity: int | None = None,
    status: str | None = None,
    unit: str | None = None,
    limit: int | None = None,
) -> list[FindingRow]:
    q = select(FindingRow).order_by(
        FindingRow.severity.desc(), FindingRow.last_seen.desc(), FindingRow.id
    )
    if scope is not None:
        q = q.where(FindingRow.unit.in_(sorted(scope)))
    if capability:
        q = q.where(FindingRow.capability == capability)
    if min_severity:
        q = q.where(FindingRow.severity >= min_severity)
    if status:
        q = q.where(FindingRow.status == status)
    if unit:
        q = q.where(FindingRow.unit == unit)
    if limit:
        q = q.limit(limit)
    return list(session.scalars(q))
