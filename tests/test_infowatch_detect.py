"""Information watch detectors: texts that must and must not trigger each one (paraphrases, no
diacritics, teencode), lookalike domains, impersonation, the CLI contracts of check and domains."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from vigil.cli import build_cli
from vigil.deployment import Deployment
from vigil.detection import run_detectors
from vigil.infowatch.detect.claims import ClaimMatcher
from vigil.infowatch.detect.impersonation import Account, ImpersonationMatcher, Official
from vigil.infowatch.detect.scam import is_scam, score_scam
from vigil.infowatch.ingest.pipeline import ingest_paths
from vigil.infowatch.text import fold
from vigil.infowatch.watchlist import WatchKind, add_watched, reference_entries
from vigil.store.models import FindingRow

runner = CliRunner()
app = build_cli()

SCAMS = [
    "Cử tri cần cập nhật thông tin cử tri tại link sau trước 17h hôm nay",
    "cu tri can cap nhat thong tin cu tri tai link sau truoc 17h hom nay",
    "Ban da trung thuong iPhone, vui long chuyen khoan phi ho so 500k",
    "Vui lòng cung cấp mã OTP vừa gửi tới điện thoại để nhận quà",
    "pls gửi mk mã otp nhé, gấp lắm",
    "Bạn liên quan đến vụ án rửa tiền, không được tiết lộ, chuyển tiền vào tài khoản tạm giữ",
    "Please verify your voter registration here before it is suspended",
    "Tuyển CTV việc nhẹ lương cao làm tại nhà, hoa hồng 20% mỗi đơn",
    "Vay tiền online không thế chấp, giải ngân trong 5 phút",
]
ORDINARY = [
    "Cảnh báo: công an không bao giờ yêu cầu cung cấp mã OTP qua điện thoại",
    "Hôm nay trời đẹp, cả nhà đi chợ sớm",
    "Chủ nhật này nhớ đi bầu cử nhé mọi người",
    "Voting opens at 7 a.m. on Sunday, bring your voter card",
    "Ngân hàng thông báo lịch nghỉ lễ, giao dịch online vẫn hoạt động",
    "ck cho e 500k nhé",
]


@pytest.mark.parametrize("text", SCAMS)
def test_scam_texts_trigger(text: str) -> None:
    assert is_scam(score_scam(fold(text))), text


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_texts_do_not_trigger(text: str) -> None:
    assert not is_scam(score_scam(fold(text))), text


OFFICIAL = ["baucu.binhson.gov.vn", "binhson.gov.vn", *(e.value for e in reference_entries())]


@pytest.mark.parametrize(
    ("domain", "official", "technique"),
    [
        ("vietcombank-xacminh.com", "vietcombank.com.vn", "added-word"),
        ("vcb-online.vn", "vietcombank.com.vn", "added-word"),
        ("vietc0mbank.com.vn", "vietcombank.com.vn", "homoglyph"),
        ("xn--vietcombnk-6qi.com.vn", "vietcombank.com.vn", "idn"),
        ("vietcombank.top", "vietcombank.com.vn", "other-suffix"),
        ("vneid-gov.online", "vneid.gov.vn", "added-word"),
        ("vietcombank.com.vn.xacminh.top", "vietcombank.com.vn", "subdomain"),
        ("baucu-binhson.com", "baucu.binhson.gov.vn", "hyphenation"),
        ("dichvucongg.gov.vn", "dichvucong.gov.vn", "typo"),
        ("rnomo.vn", "momo.vn", "homoglyph"),
    ],
)
def test_lookalikes_caught(domain: str, official: str, technique: str) -> None:
    from vigil.infowatch.detect.lookalike import LookalikeMatcher

    matcher = LookalikeMatcher(OFFICIAL, {e.value: e.aliases for e in reference_entries()})
    verdict = matcher.check(domain)
    assert verdict is not None, domain
    assert (verdict.lookalike_of, verdict.technique) == (official, technique)


def test_legitimate_domains_not_flagged() -> None:
    from vigil.infowatch.detect.lookalike import LookalikeMatcher

    matcher = LookalikeMatcher(OFFICIAL, {e.value: e.aliases for e in reference_entries()})
    legit = (Path(__file__).parent / "data" / "infowatch" / "legit_domains.txt").read_text().split()
    flagged = [d for d in legit if matcher.check(d)]
    assert flagged == []
    assert matcher.check("ib.vietcombank.com.vn") is None
    assert matcher.check("https://baucu.binhson.gov.vn/ket-qua") is None


def test_impersonation_by_name_handle_or_picture() -> None:
    official = Official(
        "facebook", "baucubinhson", "Ủy ban bầu cử tỉnh Bình Sơn", "c3c3c3c33c3c3c3c", "D06"
    )
    matcher = ImpersonationMatcher([official])
    same_name = Account("facebook", "x1", "uybanbaucu.bs", "Uy ban bau cu tinh Binh Son", "")
    assert matcher.check(same_name) is not None
    handle = Account("facebook", "x2", "baucu.binhson", "Tin tức", "")
    assert matcher.check(handle).signals == ("handle",)  # type: ignore[union-attr]
    picture = Account("facebook", "x3", "tintucbs", "Bầu cử Bình Sơn", "c3c3c3c33c3c3c3e")
    assert "picture" in matcher.check(picture).signals  # type: ignore[union-attr]
    assert matcher.check(Account("facebook", "x4", "an.nguyen", "Nguyễn Văn An", "")) is None
    assert (
        matcher.check(Account("facebook", "o", "baucubinhson", "Ủy ban bầu cử tỉnh Bình Sơn", ""))
        is None
    )


def test_false_claims_paraphrase_and_no_diacritics() -> None:
    matcher = ClaimMatcher(
        [
            (
                "voting_hours",
                "Bỏ phiếu từ 7 giờ sáng đến 7 giờ tối.",
                ["Bầu cử kết thúc lúc 12 giờ trưa", "Polls close at noon"],
            ),
            (
                "no_fees",
                "Bầu cử không mất phí.",
                ["Cử tri phải nộp phí 50.000 đồng để được bỏ phiếu"],
            ),
        ]
    )
    assert (
        matcher.false_claim("nghe noi bau cu ket thuc luc 12h trua do ae").fact_id == "voting_hours"
    )  # type: ignore[union-attr]
    assert (
        matcher.false_claim("Cử tri phải nộp 50.000 đồng phí mới được bỏ phiếu").fact_id
        == "no_fees"
    )  # type: ignore[union-attr]
    assert matcher.false_claim("Heard the polls close at noon this time").fact_id == "voting_hours"  # type: ignore[union-attr]
    assert matcher.false_claim("Nhớ đi bầu nhé, bỏ phiếu từ 7 giờ sáng đến 7 giờ tối") is None
    assert matcher.false_claim("Hôm nay ăn phở") is None
    assert matcher.match("bau cu mat phi khong?", top=1)[0][0] == "no_fees"


def _post(pid: str, account: str, text: str, **extra: object) -> dict[str, object]:
    return {
        "platform": "facebook",
        "post_id": pid,
        "account_id": account,
        "handle": account,
        "display_name": extra.pop("name", account),
        "text": text,
        "created_at": extra.pop("at", "2027-03-04T08:00:00+07:00"),
        **extra,
    }


def test_detect_stored_posts(deployment: Deployment, tmp_path: Path) -> None:
    with deployment.store.session() as session:
        add_watched(
            session,
            deployment.system(),
            WatchKind.ACCOUNT,
            "baucuthu",
            "P01",
            platform="facebook",
            name="Ủy ban bầu cử tỉnh Thử",
        )
    posts = [
        _post("s1", "a1", "Cung cấp mã OTP để nhận quà tri ân"),
        _post("l1", "a2", "Dang nhap tai https://vietcombank-xacminh.com ngay"),
        _post("i1", "fake", "Thông báo mới", name="Uy ban bau cu tinh Thu"),
        _post("o1", "a3", "Chiều nay đi đá bóng không?"),
    ]
    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join(json.dumps(p, ensure_ascii=False) for p in posts), encoding="utf-8")
    ingest_paths(deployment, [path])
    runs = run_detectors(deployment, {"infowatch"})
    assert runs[0].error is None
    with deployment.store.reader() as session:
        found = sorted((f.rule, f.subject) for f in session.query(FindingRow))
    assert found == [
        ("impersonation", "facebook:fake"),
        ("lookalike-domain", "vietcombank-xacminh.com"),
        ("scam", "facebook:l1"),
        ("scam", "facebook:s1"),
    ]
    again = run_detectors(deployment, {"infowatch"})
    assert again[0].error is None


def test_check_and_domains_cli(deployment: Deployment, tmp_path: Path) -> None:
    data = str(deployment.settings.data)
    queries = tmp_path / "q.jsonl"
    queries.write_text(
        '{"id": "a", "text": "Nhan qua tai vietcombank-xacminh.com, cung cap ma OTP"}\n'
        '{"id": "b", "text": "Chieu nay di da bong"}\n',
        encoding="utf-8",
    )
    out = runner.invoke(
        app, ["infowatch", "check", "--file", str(queries), "--json", "--data", data]
    )
    assert out.exit_code == 0, out.output
    lines = [json.loads(line) for line in out.output.splitlines()]
    assert [line["id"] for line in lines] == ["a", "b"]
    rules = {v["rule"]: v for v in lines[0]["verdicts"]}
    assert set(rules) == {"scam", "lookalike-domain"}
    assert rules["lookalike-domain"]["domain"] == "vietcombank-xacminh.com"
    assert rules["lookalike-domain"]["lookalike_of"] == "vietcombank.com.vn"
    assert lines[1]["verdicts"] == []
    domains = tmp_path / "d.txt"
    domains.write_text("https://vneid-online.com/x\nvnexpress.net\n", encoding="utf-8")
    out = runner.invoke(app, ["infowatch", "domains", str(domains), "--json", "--data", data])
    assert out.exit_code == 0, out.output
    assert [json.loads(line) for line in out.output.splitlines()] == [
        {
            "input": "https://vneid-online.com/x",
            "domain": "vneid-online.com",
            "lookalike_of": "vneid.gov.vn",
            "technique": "added-word",
            "score": 0.9,
        },
        {
            "input": "vnexpress.net",
            "domain": "vnexpress.net",
            "lookalike_of": None,
            "technique": None,
            "score": 0.0,
        },
    ]


def test_watchlist_cli(deployment: Deployment) -> None:
    data = str(deployment.settings.data)
    out = runner.invoke(
        app, ["watchlist", "add", "domain", "BauCu.Thu.gov.vn", "--owner", "P01", "--data", data]
    )
    assert out.exit_code == 0, out.output
    again = runner.invoke(
        app, ["watchlist", "add", "domain", "baucu.thu.gov.vn", "--owner", "P01", "--data", data]
    )
    assert again.exit_code == 1 and "already" in again.output
    listed = runner.invoke(app, ["watchlist", "list", "--json", "--data", data])
    entries = [json.loads(line) for line in listed.output.splitlines()]
    mine = [e for e in entries if e["value"] == "baucu.thu.gov.vn"]
    assert mine[0]["owner"] == "P01" and mine[0]["source"] == "cli"
    assert any(e["value"] == "vneid.gov.vn" and e["source"] == "reference" for e in entries)


def test_every_permutation_of_the_watchlist_is_caught() -> None:
    from vigil.infowatch.detect.lookalike import LookalikeMatcher
    from vigil.infowatch.detect.permutations import permutations

    matcher = LookalikeMatcher(OFFICIAL, {e.value: e.aliases for e in reference_entries()})
    generated = {p for d in OFFICIAL for p in permutations(d) if not matcher.is_official(p)}
    assert len(generated) > 7000
    assert {"vietcombnk.com.vn", "vietcombank.top", "xn--vietcombnk-6qi.com.vn"} <= generated
    assert sorted(p for p in generated if matcher.check(p) is None) == []


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_any_text_gives_links_and_verdicts_without_error(text: str) -> None:
    from vigil.infowatch.detect.lookalike import LookalikeMatcher
    from vigil.infowatch.links import extract_links

    matcher = LookalikeMatcher(OFFICIAL[:5], {})
    for link in extract_links(text):
        assert link.domain.endswith(link.suffix) and link.url.startswith(("http://", "https://"))
        matcher.check(link.host)
    matcher.check(text)
    assert isinstance(score_scam(fold(text)).score, float)
