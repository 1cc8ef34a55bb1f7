"""The store on every backend: dedupe, idempotent detection, audit log, schema = models."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from tests.conftest import BEFORE
from vigil.core.errors import ValidationError
from vigil.core.finding import Finding, FindingStatus
from vigil.core.severity import Severity
from vigil.deployment import Deployment
from vigil.store.audit import audit, verify_chain
from vigil.store.findings import list_findings, record_findings
from vigil.store.models import AuditEntry, FindingOccurrence, FindingRow
from vigil.store.schema import load_models, migrate, pending_heads


def _finding(
    keys: tuple[str, ...],
    at_offset: int = 0,
    subject: str = "ws-01",
    times: tuple[datetime, ...] = (),
) -> Finding:
    return Finding(
        capability="monitor",
        rule="sigma-0001",
        severity=Severity.HIGH,
        unit="C01",
        subject=subject,
        title="Suspicious PowerShell",
        observed_at=max(times) if times else BEFORE + timedelta(minutes=at_offset),
        occurrences=keys,
        occurred_at=times,
    )


def test_repeat_updates_one_row_and_rerun_changes_nothing(any_deployment: Deployment) -> None:
    store = any_deployment.store
    with store.session() as s:
        first = record_findings(s, [_finding(("e1", "e2"))])
    assert (first.created, first.updated, first.unchanged) == (1, 0, 0)

    with store.session() as s:
        again = record_findings(s, [_finding(("e1", "e2"))])
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    with store.reader() as s:
        row = s.scalars(select(FindingRow)).one()
        assert (row.count, row.last_seen) == (2, BEFORE)

    with store.session() as s:
        newer = record_findings(s, [_finding(("e2", "e3"), at_offset=30)])
    assert (newer.created, newer.updated) == (0, 1)
    with store.reader() as s:
        assert s.scalar(select(func.count()).select_from(FindingRow)) == 1
        row = s.scalars(select(FindingRow)).one()
        assert row.count == 3
        assert row.first_seen == BEFORE
        assert row.last_seen == BEFORE + timedelta(minutes=30)
        assert s.scalar(select(func.count()).select_from(FindingOccurrence)) == 3


def test_late_old_occurrence_does_not_move_last_seen_back(any_deployment: Deployment) -> None:
    with any_deployment.store.session() as s:
        record_findings(s, [_finding(("a",), at_offset=60)])
        record_findings(s, [_finding(("b",), at_offset=0)])
    with any_deployment.store.reader() as s:
        row = s.scalars(select(FindingRow)).one()
        assert (row.count, row.last_seen) == (2, BEFORE + timedelta(minutes=60))


def test_one_batch_with_duplicates_counts_distinct_keys(any_deployment: Deployment) -> None:
    batch = [
        _finding(("k",)),
        _finding(("k",)),
        _finding(("k2",)),
        _finding(("x",), subject="ws-02"),
    ]
    with any_deployment.store.session() as s:
        result = record_findings(s, batch)
    assert result.created == 2
    with any_deployment.store.reader() as s:
        counts = dict(s.execute(select(FindingRow.subject, FindingRow.count)).all())
    assert counts == {"ws-01": 2, "ws-02": 1}


def test_resolved_finding_reopens_but_false_positive_stays(any_deployment: Deployment) -> None:
    with any_deployment.store.session() as s:
        ids = record_findings(s, [_finding(("a",)), _finding(("a",), subject="ws-02")]).ids
        rows = {r.subject: r for r in s.scalars(select(FindingRow))}
        rows["ws-01"].status = FindingStatus.RESOLVED
        rows["ws-02"].status = FindingStatus.FALSE_POSITIVE
    with any_deployment.store.session() as s:
        record_findings(s, [_finding(("b",)), _finding(("b",), subject="ws-02")])
    with any_deployment.store.reader() as s:
        status = dict(s.execute(select(FindingRow.subject, FindingRow.status)).all())
        is_open = dict(s.execute(select(FindingRow.subject, FindingRow.is_open)).all())
    assert len(ids) == 2
    assert status == {"ws-01": "new", "ws-02": "false_positive"}
    assert is_open == {"ws-01": True, "ws-02": False}


def test_list_findings_scope_and_order(any_deployment: Deployment) -> None:
    with any_deployment.store.session() as s:
        record_findings(
            s,
            [
                Finding("monitor", "r", Severity.LOW, "C01", "a", "low one"),
                Finding("monitor", "r", Severity.CRITICAL, "C02", "b", "critical one"),
                Finding("monitor", "r", Severity.HIGH, "C01-POL", "c", "high one"),
            ],
        )
    with any_deployment.store.reader() as s:
        everything = [r.title for r in list_findings(s)]
        scoped = [
            r.title for r in list_findings(s, scope=frozenset(any_deployment.units.subtree("C01")))
        ]
    assert everything == ["critical one", "high one", "low one"]
    assert scoped == ["high one", "low one"]


def test_audit_log_is_append_only_and_chained(any_deployment: Deployment) -> None:
    actor = any_deployment.system("tester")
    with any_deployment.store.session() as s:
        audit(s, actor, "finding.ack", "finding:1", {"reason": "seen"}, unit="C01")
        audit(s, actor, "case.open", "case:1")
    with any_deployment.store.reader() as s:
        assert verify_chain(s) == []
        assert [e.action for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))] == [
            "finding.ack",
            "case.open",
        ]
    for statement in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), any_deployment.store.session() as s:
            s.execute(text(statement))
    with any_deployment.store.reader() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 2


def test_migrations_match_models_and_rerun_is_noop(any_deployment: Deployment) -> None:
    store = any_deployment.store
    migrate(store)
    assert pending_heads(store) == set()
    metadata = load_models()
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_new_occurrence_of_a_merged_finding_counts_on_its_target(
    any_deployment: Deployment,
) -> None:
    with any_deployment.store.session() as s:
        ids = record_findings(s, [_finding(("a",)), _finding(("b",), subject="ws-02")]).ids
        target_id, merged_id = (
            ids[_finding(("a",)).fingerprint],
            ids[_finding(("b",), subject="ws-02").fingerprint],
        )
        merged = s.get(FindingRow, merged_id)
        assert merged is not None
        merged.status, merged.merged_into = FindingStatus.MERGED, target_id
    with any_deployment.store.session() as s:
        result = record_findings(s, [_finding(("c",), at_offset=90, subject="ws-02")])
    assert (result.created, result.updated) == (0, 1)
    with any_deployment.store.reader() as s:
        target = s.get(FindingRow, target_id)
        merged = s.get(FindingRow, merged_id)
        assert target is not None and merged is not None
        assert (target.count, target.subject, target.last_seen) == (
            2,
            "ws-01",
            BEFORE + timedelta(minutes=90),
        )
        assert (merged.count, merged.status) == (1, "merged")


def test_one_finding_carries_many_occurrences_with_their_times(
    any_deployment: Deployment,
) -> None:
    at = [BEFORE + timedelta(minutes=m) for m in (30, 10, 50)]
    many = _finding(("e1", "e2", "e3"), times=tuple(at))
    with any_deployment.store.session() as s:
        first = record_findings(s, [many])
        again = record_findings(s, [many])
        # One more event later, reported the ordinary way, lands on the same row.
        record_findings(s, [_finding(("e4",), at_offset=90)])
    assert (first.created, again.unchanged) == (1, 1)
    with any_deployment.store.reader() as s:
        row = s.scalars(select(FindingRow)).one()
        assert (row.count, row.first_seen, row.last_seen) == (
            4,
            at[1],
            BEFORE + timedelta(minutes=90),
        )
        seen = dict(s.execute(select(FindingOccurrence.key, FindingOccurrence.seen_at)).all())
    assert seen == {"e1": at[0], "e2": at[1], "e3": at[2], "e4": BEFORE + timedelta(minutes=90)}


def test_occurrence_times_must_match_occurrences() -> None:
    with pytest.raises(ValidationError, match="3 occurrences but 1 occurrence times"):
        _finding(("a", "b", "c"), times=(BEFORE,))
