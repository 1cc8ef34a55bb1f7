"""The alert queue on every store backend: threshold per phase, order, scope, filters, totals."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from tests.conftest import BEFORE, DURING
from vigil.cases import queue as queue_module
from vigil.cases.queue import AlertFilter, alert_counts, alert_queue, alerts_over_time
from vigil.cases.triage import mark_false_positive
from vigil.core.access import Actor, Role
from vigil.core.calendar import Phase
from vigil.core.errors import PermissionDenied, ValidationError
from vigil.core.finding import Finding
from vigil.core.severity import Severity
from vigil.deployment import Deployment
from vigil.store.findings import record_findings

AFTER = datetime(2026, 4, 1, 3, 0, 0)


def officer(dep: Deployment, unit: str, role: Role = Role.DUTY_OFFICER) -> Actor:
    return Actor(f"{role.value}-{unit}", role, unit, frozenset(dep.units.subtree(unit)))


def add(
    dep: Deployment,
    subject: str,
    severity: Severity,
    unit: str = "C01",
    minutes: int = 0,
    capability: str = "monitor",
) -> int:
    finding = Finding(
        capability=capability,
        rule="rule-1",
        severity=severity,
        unit=unit,
        subject=subject,
        title=f"title {subject}",
        observed_at=BEFORE + timedelta(minutes=minutes),
    )
    with dep.store.session() as s:
        return record_findings(s, [finding]).ids[finding.fingerprint]


def subjects(dep: Deployment, actor: Actor, when: datetime, **kw: object) -> list[str]:
    with dep.store.reader() as s:
        page = alert_queue(s, actor, dep.policy(when), AlertFilter(**kw))  # type: ignore[arg-type]
        return [r.subject for r in page.items]


def test_threshold_follows_the_phase(any_deployment: Deployment) -> None:
    dep = any_deployment
    admin = dep.system()
    add(dep, "low-one", Severity.LOW)
    add(dep, "medium-one", Severity.MEDIUM)
    add(dep, "high-one", Severity.HIGH)
    # before: medium and up; during: low and up; after: high and up.
    assert subjects(dep, admin, BEFORE) == ["high-one", "medium-one"]
    assert subjects(dep, admin, DURING) == ["high-one", "medium-one", "low-one"]
    assert subjects(dep, admin, AFTER) == ["high-one"]
    with dep.store.reader() as s:
        page = alert_queue(s, admin, dep.policy(DURING), AlertFilter())
        assert (page.phase, page.threshold, page.total) == (Phase.DURING, Severity.LOW, 3)
        page = alert_queue(s, admin, dep.policy(AFTER), AlertFilter())
        assert (page.phase, page.threshold, page.total) == (Phase.AFTER, Severity.HIGH, 1)


def test_min_severity_raises_but_never_lowers_the_threshold(any_deployment: Deployment) -> None:
    dep = any_deployment
    admin = dep.system()
    add(dep, "low-one", Severity.LOW)
    add(dep, "medium-one", Severity.MEDIUM)
    add(dep, "critical-one", Severity.CRITICAL)
    assert subjects(dep, admin, BEFORE, min_severity=Severity.INFO) == [
        "critical-one",
        "medium-one",
    ]
    assert subjects(dep, admin, BEFORE, min_severity=Severity.HIGH) == ["critical-one"]


def test_order_is_severity_then_last_seen_then_id_all_descending(
    any_deployment: Deployment,
) -> None:
    dep = any_deployment
    ids = {
        "a": add(dep, "a", Severity.HIGH, "C01", minutes=10),
        "b": add(dep, "b", Severity.CRITICAL, "C02", minutes=0),
        "c": add(dep, "c", Severity.HIGH, "C01-POL", minutes=30),
        "d": add(dep, "d", Severity.HIGH, "C02", minutes=10),
        "e": add(dep, "e", Severity.MEDIUM, "D01", minutes=50),
    }
    expected = ["b", "c", "d", "a", "e"]  # d and a tie on severity and time: higher id first
    assert ids["d"] > ids["a"]
    assert subjects(dep, dep.system(), BEFORE) == expected
    # A province-level officer takes the same path as the system actor; a C01 officer the
    # per-unit merge path: both must give the same order.
    assert subjects(dep, officer(dep, "P01"), BEFORE) == expected
    assert subjects(dep, officer(dep, "C01"), BEFORE) == ["c", "a"]
    pages = [subjects(dep, dep.system(), BEFORE, page=p, per_page=2) for p in (1, 2, 3, 4)]
    assert pages == [["b", "c"], ["d", "a"], ["e"], []]
    with dep.store.reader() as s:
        page = alert_queue(s, dep.system(), dep.policy(BEFORE), AlertFilter(page=2, per_page=2))
        assert (page.total, page.pages, page.total_capped, page.total_label) == (5, 3, False, "5")


def test_scope_hides_other_units_and_refuses_their_filter(any_deployment: Deployment) -> None:
    dep = any_deployment
    add(dep, "c01", Severity.HIGH, "C01")
    add(dep, "c01-pol", Severity.HIGH, "C01-POL", minutes=1)
    add(dep, "c02", Severity.HIGH, "C02", minutes=2)
    c02 = officer(dep, "C02")
    c01 = officer(dep, "C01")
    assert subjects(dep, c02, BEFORE) == ["c02"]
    assert subjects(dep, c01, BEFORE) == ["c01-pol", "c01"]
    with pytest.raises(PermissionDenied, match="C01"), dep.store.reader() as s:
        alert_queue(s, c02, dep.policy(BEFORE), AlertFilter(unit="C01"))
    # A unit filter means the unit and everything under it.
    assert subjects(dep, dep.system(), BEFORE, unit="C01") == ["c01-pol", "c01"]
    assert subjects(dep, dep.system(), BEFORE, unit="C01-POL") == ["c01-pol"]
    # A viewer sees the queue (VIEW) even though it cannot triage.
    assert subjects(dep, officer(dep, "C02", Role.VIEWER), BEFORE) == ["c02"]


def test_capability_and_status_filters(any_deployment: Deployment) -> None:
    dep = any_deployment
    add(dep, "m1", Severity.HIGH, capability="monitor")
    fp = add(dep, "i1", Severity.HIGH, capability="infowatch", minutes=5)
    add(dep, "i2", Severity.MEDIUM, capability="infowatch", minutes=6)
    admin = dep.system()
    with dep.store.session() as s:
        mark_false_positive(s, admin, fp, "official page, not an impersonation")
    assert subjects(dep, admin, BEFORE, capability="infowatch") == ["i2"]
    assert subjects(dep, admin, BEFORE, status="false_positive") == ["i1"]
    assert subjects(dep, admin, BEFORE, status="new") == ["m1", "i2"]
    assert subjects(dep, admin, BEFORE, capability="cases") == []
    with pytest.raises(ValidationError, match="unknown status 'bogus'"), dep.store.reader() as s:
        alert_queue(s, admin, dep.policy(BEFORE), AlertFilter(status="bogus"))


def test_total_is_capped(deployment: Deployment, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(5):
        add(deployment, f"s{i}", Severity.HIGH, minutes=i)
    monkeypatch.setattr(queue_module, "COUNT_CAP", 3)
    with deployment.store.reader() as s:
        page = alert_queue(
            s, deployment.system(), deployment.policy(BEFORE), AlertFilter(per_page=2)
        )
    assert [r.subject for r in page.items] == ["s4", "s3"]
    assert (page.total, page.total_capped, page.total_label) == (3, True, "3+")


def test_alert_counts_by_severity_in_scope(any_deployment: Deployment) -> None:
    dep = any_deployment
    add(dep, "a", Severity.CRITICAL, "C01")
    add(dep, "b", Severity.HIGH, "C01-POL")
    add(dep, "c", Severity.HIGH, "C02")
    add(dep, "d", Severity.LOW, "C01")
    with dep.store.reader() as s:
        everyone = alert_counts(s, dep.system(), dep.policy(BEFORE))
        c01 = alert_counts(s, officer(dep, "C01"), dep.policy(BEFORE))
        during = alert_counts(s, dep.system(), dep.policy(DURING))
    assert everyone == {"critical": 1, "high": 2, "medium": 0}
    assert c01 == {"critical": 1, "high": 1, "medium": 0}
    assert during == {"critical": 1, "high": 2, "medium": 0, "low": 1}


def test_alerts_over_time_buckets_by_local_day(any_deployment: Deployment) -> None:
    dep = any_deployment
    # BEFORE is 2026-02-01 03:00 UTC = 10:00 local. 16:59 UTC on Jan 31 is 23:59 local that day;
    # 17:00 UTC is already 1 February locally.
    add(dep, "jan31-late", Severity.LOW, "C01", minutes=-(10 * 60 + 1))
    add(dep, "feb1-first", Severity.LOW, "C02", minutes=-10 * 60)
    add(dep, "feb1", Severity.HIGH, "C01", minutes=0)
    add(dep, "jan29", Severity.HIGH, "C01", minutes=-3 * 24 * 60)
    with dep.store.reader() as s:
        everyone = alerts_over_time(s, dep.system(), 3, BEFORE)
        c01 = alerts_over_time(s, officer(dep, "C01"), 3, BEFORE)
    assert everyone == [(date(2026, 1, 30), 0), (date(2026, 1, 31), 1), (date(2026, 2, 1), 2)]
    assert c01 == [(date(2026, 1, 30), 0), (date(2026, 1, 31), 1), (date(2026, 2, 1), 1)]
