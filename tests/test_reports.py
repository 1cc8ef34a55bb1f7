"""Handover and daily reports of a small province: content, language, scope, PDF text, fonts."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.conftest import BEFORE
from vigil.cases.duty import add_shift
from vigil.cases.handover import add_handover_note
from vigil.cases.reports.daily import daily_report
from vigil.cases.reports.handover import handover_report, shift_period, standard_shift
from vigil.cases.service import case_steps, close_case, mark_step_not_applicable
from vigil.cases.triage import escalate
from vigil.core.access import Actor, Role
from vigil.core.errors import ValidationError
from vigil.core.finding import Finding
from vigil.core.severity import Severity
from vigil.deployment import Deployment
from vigil.reports.render import render_pdf
from vigil.store.audit import verify_chain
from vigil.store.findings import record_findings
from vigil.store.models import AuditEntry
from vigil.store.users import actor_for, create_user, get_user

H = timedelta(hours=1)
PASSWORD = "correct horse battery"
#: The standard shift around BEFORE (10:00 local): 07:00-15:00 local = 00:00-08:00 UTC.
SHIFT = (datetime(2026, 2, 1, 0, 0), datetime(2026, 2, 1, 8, 0))
DAY = date(2026, 2, 1)

FINDINGS = {
    "c01_high": Finding(
        "monitor",
        "brute-force",
        Severity.HIGH,
        "C01",
        "srv-hoaan",
        "Repeated failed logons",
        "Đăng nhập sai lặp lại",
        observed_at=BEFORE - 2 * H,
    ),
    "c01pol_critical": Finding(
        "infowatch",
        "impersonation",
        Severity.CRITICAL,
        "C01-POL",
        "fb:cax-hoaan-gia",
        "Fake police page",
        "Trang giả mạo Công an xã",
        observed_at=BEFORE - H,
    ),
    "c02_medium_claim": Finding(
        "infowatch",
        "false-claim",
        Severity.MEDIUM,
        "C02",
        "post-1",
        "False voting date",
        "Sai ngày bầu cử",
        observed_at=BEFORE - 90 * H / 60,
    ),
    "c02_medium_scan": Finding(
        "monitor",
        "port-scan",
        Severity.MEDIUM,
        "C02",
        "pc-10",
        "Port scan",
        "Quét cổng mạng xã Phú Lộc",
        observed_at=BEFORE - 3 * H,
    ),
    "d01_low": Finding(
        "registry",
        "duplicate",
        Severity.LOW,
        "D01",
        "rec-7",
        "Duplicate voter record",
        "Cử tri trùng lặp",
        observed_at=BEFORE - H / 2,
    ),
    # Yesterday afternoon: open work of this shift, but it did not come in during it.
    "c02_high_old": Finding(
        "monitor",
        "malware",
        Severity.HIGH,
        "C02",
        "pc-9",
        "Malware on office PC",
        "Mã độc máy văn phòng",
        observed_at=BEFORE - 20 * H,
    ),
}


@dataclass
class Province:
    dep: Deployment
    system: Actor
    cases: dict[str, str]  # key -> case number


@pytest.fixture
def province(deployment: Deployment) -> Province:
    """Findings, three cases (one open, one overdue, one closed this shift), a roster and a note."""
    dep = deployment
    system = dep.system("test")
    with dep.store.session() as s:
        ids = record_findings(s, FINDINGS.values()).ids
        fid = {k: ids[f.fingerprint] for k, f in FINDINGS.items()}
        create_user(s, dep.units, "lan", PASSWORD, Role.DUTY_OFFICER, "P01", "Nguyễn Thị Lan")
        create_user(s, dep.units, "minh", PASSWORD, Role.DUTY_OFFICER, "P01", "Trần Văn Minh")
        create_user(s, dep.units, "hung", PASSWORD, Role.DUTY_OFFICER, "C02", "Lê Văn Hùng")
        policy = dep.policy()
        open_case = escalate(s, system, [fid["c01_high"]], policy, BEFORE, owner="lan")
        # High in 'before' is due 8 hours later: opened 20 hours ago, it is 12 hours late.
        late_case = escalate(s, system, [fid["c02_high_old"]], policy, BEFORE - 20 * H)
        closed = escalate(s, system, [fid["c02_medium_claim"]], policy, BEFORE - H)
        for step in case_steps(s, system, closed.id):  # a case closes with every step settled
            mark_step_not_applicable(s, system, closed.id, step.position, "drill", BEFORE - H / 2)
        close_case(s, system, closed.id, "Bài viết đã được gỡ", BEFORE - H / 2)
        add_shift(s, system, "P01", "lan", SHIFT[0], SHIFT[1], "lead")
        add_shift(s, system, "P01", "minh", SHIFT[1], SHIFT[1] + 8 * H, "lead")
        lan = actor_for(get_user(s, "lan"), dep.units)
        add_handover_note(s, lan, "Theo dõi trang giả mạo; đã đề nghị gỡ bỏ.", now=BEFORE - H / 4)
        cases = {"open": open_case.number, "late": late_case.number, "closed": closed.number}
    return Province(dep, system, cases)


def _officer(p: Province, username: str) -> Actor:
    with p.dep.store.reader() as s:
        return actor_for(get_user(s, username), p.dep.units)


def _sections(html: str) -> dict[str, str]:
    """Report HTML split at its <h2> headings: heading text -> the HTML up to the next one."""
    parts = re.split(r"<h2>(.*?)</h2>", html)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def _rows(fragment: str) -> list[str]:
    return re.findall(r"<tr[^>]*>\s*<td.*?</tr>", fragment, flags=re.S)


def _tiles(html: str) -> dict[str, str]:
    pairs = re.findall(
        r'<span class="value">([^<]*)</span><span class="label">([^<]*)</span>', html
    )
    return {label: value for value, label in pairs}


def _pdftotext(pdf: bytes, tmp_path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is missing: install poppler-utils (scripts/system-deps.sh)")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True)
    return out.stdout.decode("utf-8")


# --- shift handover ---------------------------------------------------------------------------


def test_handover_period_is_the_rostered_shift_in_progress(province: Province) -> None:
    assert shift_period(province.dep, province.system) == SHIFT


def test_handover_lists_exactly_the_shifts_work(province: Province) -> None:
    p = province
    report = handover_report(p.dep, p.system, *SHIFT, "en")
    sec = _sections(report.html)
    assert list(sec) == [
        "Shift and officers",
        "New alerts",
        "Open alerts",
        "Open cases",
        "Cases closed in the shift",
        "Notes from the outgoing officer",
    ]
    facts = sec["Shift and officers"]
    assert "Nguyễn Thị Lan (lan)" in facts and "Trần Văn Minh (minh)" in facts
    assert "Before voting" in facts and 'sev-medium">medium</span> and above' in facts
    assert _tiles(report.html) == {
        "New alerts": "4",
        "Open alerts": "2",
        "Open cases": "2",
        "Overdue cases": "1",
        "Cases closed in the shift": "1",
    }
    # Came in: medium and above, first seen in the shift; worst first.
    titles = re.findall(r'<td>([^<]*)</td>\s*<td class="num">', sec["New alerts"])
    assert titles == [
        "Fake police page",
        "Repeated failed logons",
        "False voting date",
        "Port scan",
    ]
    assert "Duplicate voter record" not in report.html  # low: under the phase threshold
    assert [r.count("Port scan") for r in _rows(sec["Open alerts"])] == [0, 1]
    open_rows = _rows(sec["Open cases"])
    assert [p.cases["late"] in r and 'class="overdue"' in r for r in open_rows] == [True, False]
    assert p.cases["open"] in open_rows[1] and "Nguyễn Thị Lan (lan)" in open_rows[1]
    assert 'class="callout"' in sec["Open cases"] and p.cases["late"] in sec["Open cases"]
    closed_rows = _rows(sec["Cases closed in the shift"])
    assert len(closed_rows) == 1 and p.cases["closed"] in closed_rows[0]
    assert "2026-02-01 09:30" in closed_rows[0]  # local time of BEFORE - 30 min
    assert "Theo dõi trang giả mạo; đã đề nghị gỡ bỏ." in sec["Notes from the outgoing officer"]


def test_handover_pdf_in_vietnamese_keeps_diacritics(province: Province, tmp_path: Path) -> None:
    p = province
    report = handover_report(p.dep, p.system, *SHIFT, "vi")
    text = _pdftotext(render_pdf(report.html), tmp_path)
    for heading in (
        "BÁO CÁO BÀN GIAO CA TRỰC",  # the title, upper-cased by the style sheet
        "Ca trực từ 01/02/2026 07:00 đến 01/02/2026 15:00",
        "Ca trực và cán bộ trực",
        "Cảnh báo mới",
        "Cảnh báo đang mở",
        "Vụ việc đang mở",
        "Quá hạn",
        "Vụ việc đã đóng trong ca",
        "Ghi chú của cán bộ giao ca",
        "MẬT — CHỈ DÙNG NỘI BỘ",
        "Trước ngày bầu cử",
        "Cán bộ giao ca",
        "Cán bộ nhận ca",
        "(ký, ghi rõ họ tên)",
    ):
        assert heading in text, heading
    for value in (
        p.cases["open"],
        p.cases["late"],
        p.cases["closed"],
        "Trang giả mạo Công an xã",
        "Quét cổng mạng xã Phú Lộc",
        "Nguyễn Thị Lan",
        "Theo dõi trang giả mạo; đã đề nghị gỡ bỏ.",
    ):
        assert value in text, value
    pages = [int(n) for n in re.findall(r"Trang (\d+)/\d+", text)]
    totals = set(re.findall(r"Trang \d+/(\d+)", text))
    assert pages == list(range(1, len(pages) + 1)) and totals == {str(len(pages))}
    # The running header names the report on pages after the first.
    assert ("Báo cáo bàn giao ca trực" in text) == (len(pages) > 1)


def test_handover_pdf_embeds_noto_sans(province: Province, tmp_path: Path) -> None:
    if shutil.which("pdffonts") is None:
        pytest.skip("pdffonts is missing: install poppler-utils (scripts/system-deps.sh)")
    p = province
    path = tmp_path / "handover.pdf"
    path.write_bytes(render_pdf(handover_report(p.dep, p.system, *SHIFT, "vi").html))
    listing = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout
    fonts = [line.split() for line in listing.splitlines()[2:]]
    noto = [f for f in fonts if "Noto" in f[0]]
    assert noto, listing
    # Embedded and subset: the 'emb' and 'sub' columns say yes for every Noto face.
    assert all(f[-5:-3] == ["yes", "yes"] for f in noto), listing


def test_handover_in_english_has_english_headings(province: Province, tmp_path: Path) -> None:
    p = province
    text = _pdftotext(render_pdf(handover_report(p.dep, p.system, *SHIFT, "en").html), tmp_path)
    for heading in (
        "SHIFT HANDOVER REPORT",
        "Shift from 2026-02-01 07:00 to 2026-02-01 15:00",
        "New alerts",
        "Open alerts",
        "Open cases",
        "Cases closed in the shift",
        "Notes from the outgoing officer",
        "RESTRICTED — INTERNAL USE",
        "Page 1 of",
        "Outgoing officer",
        "Incoming officer",
        "Fake police page",
    ):
        assert heading in text, heading
    assert "Vụ việc" not in text and "Trang 1/" not in text


def test_handover_of_a_c02_officer_shows_only_c02(province: Province) -> None:
    p = province
    hung = _officer(p, "hung")
    html = handover_report(p.dep, hung, *SHIFT, "vi").html
    for hidden in (
        "Đăng nhập sai lặp lại",
        "Trang giả mạo Công an xã",
        "Xã Hòa An",
        p.cases["open"],
        "Theo dõi trang giả mạo",
    ):  # the note belongs to the province's duty room
        assert hidden not in html, hidden
    assert (
        "Quét cổng mạng xã Phú Lộc" in html
        and p.cases["late"] in html
        and p.cases["closed"] in html
    )
    assert _tiles(html) == {
        "Cảnh báo mới": "2",
        "Cảnh báo đang mở": "1",
        "Vụ việc đang mở": "1",
        "Vụ việc quá hạn": "1",
        "Vụ việc đã đóng trong ca": "1",
    }


def test_handover_chart_counts_alerts_per_local_hour(province: Province) -> None:
    p = province
    html = handover_report(p.dep, p.system, *SHIFT, "en").html
    svgs = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    assert len(svgs) == 1 and 'aria-label="Alerts per hour"' in svgs[0]
    # Same data, same bytes: the chart of a second rendering is identical.
    again = re.findall(r"<svg.*?</svg>", handover_report(p.dep, p.system, *SHIFT, "en").html, re.S)
    assert again == svgs


# --- daily situation ---------------------------------------------------------------------------


def test_daily_report_numbers_units_cases_and_coverage(province: Province) -> None:
    p = province
    report = daily_report(p.dep, p.system, DAY, "en")
    html = report.html
    sec = _sections(html)
    assert list(sec) == [
        "Overall situation",
        "Alerts over the last 14 days",
        "Open alerts and findings",
        "Readiness by unit",
        "Top open alerts",
        "Cases",
        "Duty coverage in the next 24 hours",
    ]
    assert "Before voting" in sec["Overall situation"] and "2026-03-15 (in 42 days)" in html
    assert _tiles(html) == {
        "New findings": "5",  # the high one of yesterday afternoon is not today's
        "New alerts": "4",  # the low one is under the threshold
        "Open alerts": "2",  # critical police page and the port scan; the rest are in cases
        "Open cases": "2",
        "Overdue cases": "1",
        "Cases closed": "1",
    }
    readiness = _rows(sec["Readiness by unit"])
    cells = [re.findall(r"<td[^>]*>(?:<span[^>]*>)?([^<]*)", r) for r in readiness]
    assert cells == [
        ["Hoa An Commune Police", "1", "0", "0", "0", "0", "Act now"],
        ["Phu Loc Commune", "0", "0", "1", "1", "1", "Act now"],
        ["Hoa An Commune", "0", "0", "0", "1", "0", "Watch"],
    ]
    assert [
        r.count("Fake police page") + 2 * r.count("Port scan")
        for r in _rows(sec["Top open alerts"])
    ] == [1, 2]
    cases = sec["Cases"]
    assert cases.index(p.cases["late"]) < cases.index("Cases opened on the day")
    opened = cases.split("Cases opened on the day")[1].split("Cases closed on the day")[0]
    assert [n for n in p.cases.values() if n in opened] == [p.cases["open"], p.cases["closed"]]
    closed = cases.split("Cases closed on the day")[1]
    assert p.cases["closed"] in closed and p.cases["open"] not in closed
    # Roster: lan 07-15, minh 15-23 local; nobody from 23:00 to 10:00 the next morning.
    gaps = _rows(sec["Duty coverage in the next 24 hours"])
    assert len(gaps) == 1
    assert re.findall(r"<td[^>]*>([^<]*)</td>", gaps[0]) == [
        "Test Province",
        "2026-02-01 23:00",
        "2026-02-02 10:00",
        "11",
    ]
    svgs = re.findall(r'<svg role="img" aria-label="([^"]+)"', html)
    assert svgs == ["Alerts per day", "Open alerts by severity", "Findings by capability"]


def test_daily_report_in_vietnamese(province: Province, tmp_path: Path) -> None:
    p = province
    text = _pdftotext(render_pdf(daily_report(p.dep, p.system, DAY, "vi").html), tmp_path)
    for heading in (
        "BÁO CÁO TÌNH HÌNH HẰNG NGÀY",
        "Tình hình ngày 01/02/2026",
        "Tình hình chung",
        "Cảnh báo trong 14 ngày qua",
        "Mức sẵn sàng theo đơn vị",
        "Vụ việc mở trong ngày",
        "Bố trí ca trực trong 24 giờ tới",
        "Cần xử lý ngay",
        "Phát hiện mới",
        "MẬT — CHỈ DÙNG NỘI BỘ",
    ):
        assert heading in text, heading


def test_daily_report_of_a_c02_officer_shows_only_c02(province: Province) -> None:
    p = province
    html = daily_report(p.dep, _officer(p, "hung"), DAY, "en").html
    assert "Hoa An" not in html and "Fake police page" not in html and p.cases["open"] not in html
    assert _tiles(html) == {
        "New findings": "2",
        "New alerts": "2",
        "Open alerts": "1",
        "Open cases": "1",
        "Overdue cases": "1",
        "Cases closed": "1",
    }


# --- command line ------------------------------------------------------------------------------


def _cli(p: Province, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    from vigil.cli import build_cli

    monkeypatch.setenv("VIGIL_CLOCK", BEFORE.isoformat())
    result = CliRunner().invoke(build_cli(), [*args, "--data", str(p.dep.settings.data)])
    return result.exit_code, result.output


def test_cli_writes_dated_reports_and_audits_them(
    province: Province, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = province
    code, out = _cli(p, monkeypatch, "report", "handover", "--lang", "vi")
    assert code == 0, out
    reports = p.dep.settings.data / "reports"
    assert out.split() == [
        str(reports / "handover-20260201-0700.html"),
        str(reports / "handover-20260201-0700.pdf"),
    ]
    assert (reports / "handover-20260201-0700.pdf").read_bytes().startswith(b"%PDF-")
    code, out = _cli(p, monkeypatch, "report", "handover", "--html", "--end", "2026-02-01 15:00")
    assert code == 0, out
    assert out.split() == [str(reports / "handover-20260201-0700-2.html")]
    with p.dep.store.reader() as s:
        entries = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "report.generate")))
        assert verify_chain(s) == []
    assert [(e.actor, e.target, e.detail["lang"]) for e in entries] == [
        ("cli", "report:handover", "vi"),
        ("cli", "report:handover", "vi"),
    ]
    first = entries[0].detail["files"]
    assert [Path(f["path"]).name for f in first] == [
        "handover-20260201-0700.html",
        "handover-20260201-0700.pdf",
    ]
    assert all(
        hashlib.sha256(Path(f["path"]).read_bytes()).hexdigest() == f["sha256"] for f in first
    )


def test_cli_daily_as_an_officer_to_a_named_file(
    province: Province, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    p = province
    out_file = tmp_path / "out" / "daily.html"
    code, out = _cli(
        p,
        monkeypatch,
        "report",
        "daily",
        "--date",
        "2026-02-01",
        "--html",
        "--out",
        str(out_file),
        "--as",
        "hung",
        "--lang",
        "en",
    )
    assert code == 0, out
    assert out.split() == [str(out_file)]
    html = out_file.read_text(encoding="utf-8")
    assert "<h1>Daily situation report</h1>" in html
    assert "Hoa An" not in html and "Phu Loc Commune" in html
    with p.dep.store.reader() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "report.generate")).one()
    assert (entry.actor, entry.unit, entry.target) == ("hung", "C02", "report:daily")


def test_cli_refuses_an_out_file_of_the_other_format(
    province: Province, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out = _cli(province, monkeypatch, "report", "daily", "--out", "situation.html")
    assert code == 1
    assert "a PDF report needs a file ending in .pdf" in out
    code, out = _cli(province, monkeypatch, "report", "daily", "--date", "1 Feb")
    assert code == 1 and "not a date: '1 Feb'" in out


# --- shifts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "shift"),
    [
        ("2026-02-01 06:59", ("2026-01-31 23:00", "2026-02-01 07:00")),
        ("2026-02-01 07:00", ("2026-02-01 07:00", "2026-02-01 15:00")),
        ("2026-02-01 14:59", ("2026-02-01 07:00", "2026-02-01 15:00")),
        ("2026-02-01 15:00", ("2026-02-01 15:00", "2026-02-01 23:00")),
        ("2026-02-01 23:30", ("2026-02-01 23:00", "2026-02-02 07:00")),
        ("2026-02-02 00:10", ("2026-02-01 23:00", "2026-02-02 07:00")),
    ],
)
def test_standard_shift_in_progress(local: str, shift: tuple[str, str]) -> None:
    def utc(text: str) -> datetime:
        return datetime.fromisoformat(text) - timedelta(hours=7)

    assert standard_shift(utc(local)) == (utc(shift[0]), utc(shift[1]))


def test_shift_period_without_a_roster_or_with_one_side(deployment: Deployment) -> None:
    system = deployment.system()
    assert shift_period(deployment, system) == SHIFT  # nobody rostered: 07-15 local
    end = datetime(2026, 2, 1, 8)
    assert shift_period(deployment, system, end=end) == (end - 8 * H, end)
    assert shift_period(deployment, system, start=end) == (end, end + 8 * H)


def test_handover_chart_per_day_for_long_periods_and_none_when_quiet(province: Province) -> None:
    p = province
    three_days = handover_report(p.dep, p.system, SHIFT[1] - 72 * H, SHIFT[1], "en").html
    assert re.findall(r'aria-label="([^"]+)"', three_days) == ["Alerts per day"]
    assert _tiles(three_days)["New alerts"] == "5"  # yesterday's high one too
    quiet = handover_report(p.dep, p.system, SHIFT[0] - 48 * H, SHIFT[0] - 40 * H, "en").html
    assert "<svg" not in quiet and "No new alerts in this shift." in quiet
    with pytest.raises(ValidationError, match="a handover covers at most 7 days"):
        handover_report(p.dep, p.system, SHIFT[1] - 8 * 24 * H, SHIFT[1], "en")
    with pytest.raises(ValidationError, match="must end after it starts"):
        handover_report(p.dep, p.system, SHIFT[1], SHIFT[0], "en")
