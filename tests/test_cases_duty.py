"""Duty roster, 24/7 coverage gaps, the duty room's detectors, and the shift handover."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import BEFORE
from vigil.cases.duty import Gap, add_shift, coverage_gaps, current_shift, remove_shift, roster
from vigil.cases.handover import add_handover_note, build_handover
from vigil.cases.service import close_case, create_case
from vigil.cases.triage import acknowledge, escalate
from vigil.core.access import Actor, Role
from vigil.core.clock import PROVINCE_TZ, to_utc
from vigil.core.errors import ConflictError, NotFoundError, PermissionDenied, ValidationError
from vigil.core.finding import Finding
from vigil.core.severity import Severity
from vigil.deployment import Deployment
from vigil.detection import run_detectors
from vigil.store.findings import record_findings
from vigil.store.models import FindingRow
from vigil.store.users import create_user


def local(day: int, hour: int, month: int = 2) -> datetime:
    """A time in February 2026 (March with month=3) in the province's zone, as naive UTC."""
    return to_utc(datetime(2026, month, day, hour, tzinfo=PROVINCE_TZ))


def officer(dep: Deployment, unit: str, role: Role = Role.DUTY_OFFICER) -> Actor:
    return Actor(f"{role.value}-{unit}", role, unit, frozenset(dep.units.subtree(unit)))


@pytest.fixture
def staffed(any_deployment: Deployment) -> Deployment:
    deployment = any_deployment
    with deployment.store.session() as s:
        for name, role, unit in (
            ("duty1", Role.DUTY_OFFICER, "P01"),
            ("duty2", Role.DUTY_OFFICER, "P01"),
            ("duty3", Role.DUTY_OFFICER, "P01"),
            ("c02duty", Role.DUTY_OFFICER, "C02"),
            ("watcher", Role.VIEWER, "P01"),
        ):
            create_user(s, deployment.units, name, "long-password-1", role, unit)
    return deployment


def shift(
    dep: Deployment, user: str, starts: datetime, ends: datetime, role: str = "officer"
) -> int:
    with dep.store.session() as s:
        return add_shift(s, dep.system(), "P01", user, starts, ends, role).id


def test_gaps_merge_overlaps_and_cross_midnight(staffed: Deployment) -> None:
    dep = staffed
    shift(dep, "duty1", local(2, 7), local(2, 15))
    shift(dep, "duty2", local(2, 14), local(2, 23))  # overlaps the day shift by an hour
    shift(dep, "duty3", local(2, 23), local(3, 7))  # crosses midnight
    shift(dep, "duty1", local(3, 9), local(3, 17))
    shift(dep, "duty2", local(3, 10), local(3, 12))  # inside another shift
    with dep.store.reader() as s:
        gaps = coverage_gaps(s, local(2, 0), local(3, 20), "P01")
        assert coverage_gaps(s, local(2, 7), local(3, 7), "P01") == []
        # A window that starts inside a shift that began the day before.
        assert coverage_gaps(s, local(3, 1), local(3, 10), "P01") == [Gap(local(3, 7), local(3, 9))]
        assert coverage_gaps(s, local(2, 0), local(2, 1), "C02") == [Gap(local(2, 0), local(2, 1))]
    assert gaps == [
        Gap(local(2, 0), local(2, 7)),
        Gap(local(3, 7), local(3, 9)),
        Gap(local(3, 17), local(3, 20)),
    ]
    assert [g.hours for g in gaps] == [7, 2, 3]


def test_add_shift_checks(staffed: Deployment) -> None:
    dep = staffed
    admin = dep.system()
    cases = [
        (
            dict(username="duty1", starts=local(2, 15), ends=local(2, 7)),
            ValidationError,
            "end after it starts",
        ),
        (
            dict(username="duty1", starts=local(2, 7), ends=local(3, 8)),
            ValidationError,
            "at most 24 hours",
        ),
        (
            dict(username="ghost", starts=local(2, 7), ends=local(2, 15)),
            NotFoundError,
            "no active user 'ghost'",
        ),
        (
            dict(username="watcher", starts=local(2, 7), ends=local(2, 15)),
            ValidationError,
            "cannot triage",
        ),
        (
            dict(username="c02duty", starts=local(2, 7), ends=local(2, 15)),
            ValidationError,
            "does not see unit P01",
        ),
        (
            dict(username="duty1", starts=local(2, 7), ends=local(2, 15), role_on_shift="boss"),
            ValidationError,
            "lead",
        ),
    ]
    for kwargs, error, message in cases:
        with pytest.raises(error, match=message), dep.store.session() as s:
            add_shift(s, admin, "P01", **kwargs)  # type: ignore[arg-type]
    shift(dep, "duty1", local(2, 7), local(2, 15))
    with pytest.raises(ConflictError, match="already on shift"), dep.store.session() as s:
        add_shift(s, admin, "P01", "duty1", local(2, 14), local(2, 22))
    with pytest.raises(PermissionDenied, match="unit P01"), dep.store.session() as s:
        add_shift(s, officer(dep, "C02"), "P01", "duty2", local(2, 7), local(2, 15))
    with pytest.raises(PermissionDenied, match="may not manage_duty"), dep.store.session() as s:
        add_shift(s, officer(dep, "P01", Role.VIEWER), "P01", "duty2", local(2, 7), local(2, 15))
    # The C02 officer may put its own officer on the C02 duty room.
    with dep.store.session() as s:
        assert (
            add_shift(s, officer(dep, "C02"), "C02", "c02duty", local(2, 7), local(2, 15)).unit
            == "C02"
        )


def test_roster_current_shift_and_remove(staffed: Deployment) -> None:
    dep = staffed
    a = shift(dep, "duty1", local(2, 7), local(2, 15))
    b = shift(dep, "duty2", local(2, 7), local(2, 15), "lead")
    c = shift(dep, "duty3", local(2, 15), local(2, 23))
    with dep.store.session() as s:
        add_shift(s, dep.system(), "C02", "c02duty", local(2, 7), local(2, 15))
    with dep.store.reader() as s:
        everything = [
            (x.username, x.unit) for x in roster(s, dep.system(), local(2, 0), local(3, 0))
        ]
        c02_view = [x.username for x in roster(s, officer(dep, "C02"), local(2, 0), local(3, 0))]
        later = [x.id for x in roster(s, dep.system(), local(2, 16), local(3, 0), unit="P01")]
        on_now = current_shift(s, "P01", local(2, 10))
        at_handover = current_shift(s, "P01", local(2, 15))
        nobody = current_shift(s, "P01", local(2, 23))
        with pytest.raises(PermissionDenied):
            roster(s, officer(dep, "C02"), local(2, 0), local(3, 0), unit="P01")
    assert everything == [("c02duty", "C02"), ("duty2", "P01"), ("duty1", "P01"), ("duty3", "P01")]
    assert c02_view == ["c02duty"]
    assert later == [c]
    assert on_now is not None and on_now.id == b  # the lead speaks for the shift
    assert (
        at_handover is not None and at_handover.id == c
    )  # [starts, ends): 15:00 is the next shift
    assert nobody is None
    with dep.store.session() as s:
        remove_shift(s, dep.system(), a)
    with dep.store.reader() as s:
        assert [x.id for x in roster(s, dep.system(), local(2, 0), local(3, 0), unit="P01")] == [
            b,
            c,
        ]


def _cases_findings(dep: Deployment, rule: str) -> list[FindingRow]:
    with dep.store.reader() as s:
        q = select(FindingRow).where(FindingRow.capability == "cases", FindingRow.rule == rule)
        return list(s.scalars(q.order_by(FindingRow.id)))


def test_overdue_detection_is_idempotent_and_closing_resolves_it(staffed: Deployment) -> None:
    dep = staffed
    with dep.store.session() as s:
        case = create_case(
            s, dep.system(), "Defaced commune page", "C01", "high", dep.policy(), BEFORE
        )
        case_id, number = case.id, case.number
    assert [r.result.created for r in run_detectors(dep, {"cases"})] == [1]  # the roster gap only
    assert _cases_findings(dep, "case-overdue") == []
    dep.clock = BEFORE + timedelta(hours=9)  # high in 'before' is due after 8 hours
    first = run_detectors(dep, {"cases"})
    dep.clock = BEFORE + timedelta(hours=10)
    second = run_detectors(dep, {"cases"})
    assert [r.error for r in first + second] == [None, None]
    (overdue,) = _cases_findings(dep, "case-overdue")
    assert (overdue.subject, overdue.unit, overdue.severity, overdue.count) == (number, "C01", 4, 1)
    assert overdue.first_seen == BEFORE + timedelta(hours=8)
    assert overdue.title.startswith(f"Case {number} is overdue (due 2026-02-01 18:00)")
    assert overdue.title_vi.startswith(f"Vụ việc {number} quá hạn xử lý (hạn 2026-02-01 18:00)")
    assert second[0].result.created == 0
    with dep.store.session() as s:
        close_case(s, dep.system(), case_id, "page restored", dep.now())
    (overdue,) = _cases_findings(dep, "case-overdue")
    assert (overdue.status, overdue.status_reason) == ("resolved", f"case {number} closed")
    run_detectors(dep, {"cases"})
    assert [f.status for f in _cases_findings(dep, "case-overdue")] == ["resolved"]


def test_duty_gap_findings_are_stable_as_time_passes(staffed: Deployment) -> None:
    dep = staffed
    # BEFORE = 2026-02-01 10:00 local. Cover up to 02-03 23:00, leave 8 hours, cover the rest.
    shift(dep, "duty1", local(1, 7), local(1, 23))
    shift(dep, "duty2", local(1, 23), local(2, 23))
    shift(dep, "duty3", local(2, 23), local(3, 23))
    start = local(4, 7)
    k = 0
    while start < local(10, 7):
        shift(dep, ("duty1", "duty2", "duty3")[k % 3], start, start + timedelta(hours=8))
        start += timedelta(hours=8)
        k += 1
    runs = []
    for hours in (0, 1, 5):
        dep.clock = BEFORE + timedelta(hours=hours)
        runs.append(run_detectors(dep, {"cases"})[0].result)
    (gap,) = _cases_findings(dep, "duty-gap")
    assert gap.subject == "2026-02-03 23:00 → 2026-02-04 07:00 (UTC+7)"
    assert gap.title == "Nobody on duty 2026-02-03 23:00 → 2026-02-04 07:00 (UTC+7)"
    assert gap.title_vi == "Không có cán bộ trực 2026-02-03 23:00 → 2026-02-04 07:00 (UTC+7)"
    assert (gap.unit, gap.severity, gap.count) == ("P01", Severity.MEDIUM, 1)
    assert [(r.created, r.unchanged) for r in runs] == [(1, 0), (0, 1), (0, 1)]
    # Filling the hole resolves the finding at once; the next run finds nothing new.
    shift(dep, "duty1", local(3, 23), local(4, 7))
    (gap,) = _cases_findings(dep, "duty-gap")
    assert gap.status == "resolved"
    assert run_detectors(dep, {"cases"})[0].result.created == 0


def test_duty_gap_is_high_during_voting(staffed: Deployment) -> None:
    dep = staffed
    dep.clock = local(13, 12, month=3)  # the 'during' phase starts 14 March 00:00 local
    shift(dep, "duty1", local(13, 7, 3), local(13, 23, 3))
    run_detectors(dep, {"cases"})
    (gap,) = _cases_findings(dep, "duty-gap")
    assert gap.subject == "2026-03-13 23:00 → … (UTC+7)"
    assert gap.severity == Severity.HIGH


def test_empty_roster_is_one_open_ended_gap(deployment: Deployment) -> None:
    run_detectors(deployment, {"cases"})
    deployment.clock = BEFORE + timedelta(days=1)
    run_detectors(deployment, {"cases"})
    (gap,) = _cases_findings(deployment, "duty-gap")
    assert (gap.subject, gap.count) == ("(no shift on the roster)", 1)


def test_handover_lists_what_the_next_shift_needs(staffed: Deployment) -> None:
    dep = staffed
    start, end = local(1, 7), local(1, 15)
    s1 = shift(dep, "duty1", start, end, "lead")
    shift(dep, "duty2", end, local(1, 23), "lead")
    base = start
    findings = [
        Finding(
            "monitor",
            "r",
            Severity.HIGH,
            "C01",
            "came-high",
            "t",
            observed_at=base + timedelta(hours=1),
        ),
        Finding(
            "monitor",
            "r",
            Severity.LOW,
            "C01",
            "came-low",
            "t",
            observed_at=base + timedelta(hours=2),
        ),
        Finding(
            "monitor",
            "r",
            Severity.CRITICAL,
            "C02",
            "came-c02",
            "t",
            observed_at=base + timedelta(hours=3),
        ),
        Finding(
            "monitor", "r", Severity.MEDIUM, "C01", "old", "t", observed_at=base - timedelta(days=2)
        ),
        Finding(
            "monitor",
            "r",
            Severity.HIGH,
            "C01",
            "late",
            "t",
            observed_at=end + timedelta(minutes=5),
        ),
    ]
    with dep.store.session() as s:
        ids = record_findings(s, findings).ids
        fid = {f.subject: ids[f.fingerprint] for f in findings}
        admin = dep.system()
        acknowledge(s, admin, fid["old"])
        old_case = escalate(
            s, admin, [fid["came-c02"]], dep.policy(start), start + timedelta(hours=3.5)
        )
        new_case = create_case(
            s, admin, "Phishing", "C01", "medium", dep.policy(start), start + timedelta(hours=4)
        )
        done = create_case(
            s, admin, "Done", "C01", "low", dep.policy(start), start - timedelta(days=3)
        )
        close_case(s, admin, done.id, "ok", start + timedelta(hours=6))
        add_handover_note(
            s, admin, "Hosting provider on standby.", shift_id=s1, now=end - timedelta(minutes=10)
        )
        add_handover_note(s, admin, "Yesterday's note", now=start - timedelta(hours=1))
    with dep.store.reader() as s:
        everyone = build_handover(s, dep.system(), dep.policy(start), start, end, end)
        c01 = build_handover(s, officer(dep, "C01"), dep.policy(start), start, end, end)
    assert (everyone.unit, everyone.outgoing, everyone.incoming, everyone.phase.value) == (
        "P01",
        "duty1",
        "duty2",
        "before",
    )
    # Low is below the 'before' threshold; the critical one came in and was escalated since.
    assert [f.subject for f in everyone.came_in] == ["came-c02", "came-high"]
    assert everyone.came_in_total == 2
    assert [f.subject for f in everyone.open_alerts] == ["late", "came-high", "old"]
    assert [c.number for c in everyone.open_cases] == [old_case.number, new_case.number]
    assert [c.number for c in everyone.overdue_cases] == [
        old_case.number
    ]  # critical: due in 2 hours
    assert [c.number for c in everyone.closed_cases] == [done.number]
    assert [n.text for n in everyone.notes] == ["Hosting provider on standby."]
    assert (c01.unit, [c.number for c in c01.open_cases]) == ("C01", [new_case.number])
    assert [n.text for n in c01.notes] == []  # the note is for the province duty room
    assert c01.outgoing == officer(dep, "C01").username  # nobody rostered at C01


def test_handover_note_checks(staffed: Deployment) -> None:
    dep = staffed
    with pytest.raises(ValidationError, match="must not be empty"), dep.store.session() as s:
        add_handover_note(s, dep.system(), "  ")
    with pytest.raises(NotFoundError, match="no shift 77"), dep.store.session() as s:
        add_handover_note(s, dep.system(), "x", shift_id=77)
    with pytest.raises(PermissionDenied, match="may not manage_duty"), dep.store.session() as s:
        add_handover_note(s, officer(dep, "P01", Role.ANALYST), "x")
    with dep.store.reader() as s:
        assert s.scalar(select(func.count()).select_from(FindingRow)) == 0
