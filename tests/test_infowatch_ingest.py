"""Information watch ingest: the documented schema, feeds, reported messages; idempotent; bad
records quarantined with file, line and reason; Vietnamese text normalised; links normalised."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.deployment import Deployment
from vigil.infowatch.ingest.pipeline import ingest_paths
from vigil.infowatch.ingest.schema import DATASET, RecordError, to_row
from vigil.infowatch.links import extract_links
from vigil.infowatch.text import clean, decode_bytes, fold

POST = {
    "platform": "facebook",
    "post_id": "p1",
    "account_id": "u1",
    "handle": "@An.Nguyen",
    "display_name": "Nguyễn An",
    "page": "",
    "url": "https://facebook.com/p1",
    "text": "Xem tại hxxps://vietcombank-xacminh[.]com/login nhé",
    "created_at": "2027-03-04T08:00:00+07:00",
    "reactions": 3,
    "shares": 1,
    "links": [],
    "media_hashes": [],
}


def rows(dep: Deployment) -> list[dict[str, object]]:
    return [r for f in dep.lake.files(DATASET) for r in pq.read_table(f).to_pylist()]


def test_jsonl_csv_feed_and_messages_ingested_once(deployment: Deployment, tmp_path: Path) -> None:
    tmp_path = tmp_path / "in"
    tmp_path.mkdir()
    posts = tmp_path / "posts.jsonl"
    bad = {**POST, "post_id": "p2", "created_at": "yesterday"}
    posts.write_text(
        "\n".join([json.dumps(POST, ensure_ascii=False), "{not json", json.dumps(bad)]) + "\n",
        encoding="utf-8",
    )
    csv = tmp_path / "posts.csv"
    csv.write_text(
        "platform,post_id,account_id,handle,display_name,page,url,text,created_at,reactions,shares,links,media_hashes\n"
        "tiktok,t1,u9,u9,Bình,,,Bau cu ngay 14/3,2027-03-04 09:00,x,0,,\n"
        "tiktok,t2,u9,u9,Bình,,,Đi bầu nhé,2027-03-04 09:05,2,0,https://baucu.example.gov.vn,\n",
        encoding="utf-8",
    )
    feed = tmp_path / "news.atom"
    feed.write_text(
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>Báo Tỉnh</title><link href='https://bao.example.vn/'/><id>urn:x</id>"
        "<updated>2027-03-04T01:00:00Z</updated><entry><title>Cử tri chuẩn bị đi bầu</title>"
        "<id>urn:1</id><link href='https://bao.example.vn/a1'/><updated>2027-03-04T01:00:00Z</updated>"
        "<summary>Tin &lt;b&gt;bầu cử&lt;/b&gt;</summary></entry></feed>",
        encoding="utf-8",
    )
    sms = tmp_path / "reported.sms"
    sms.write_text(
        "[2027-03-04 10:00] +84900000001: Cung cap ma OTP de nhan qua\nno bracket line\n",
        encoding="utf-8",
    )
    result = ingest_paths(deployment, [tmp_path])
    assert (result.rows, result.quarantined) == (4, 4)
    stored = {r["post_id"]: r for r in rows(deployment)}
    assert stored["p1"]["handle"] == "an.nguyen"
    assert stored["p1"]["links"] == ["https://vietcombank-xacminh.com/login"]
    assert stored["p1"]["domains"] == ["vietcombank-xacminh.com"]
    assert stored["t2"]["domains"] == ["example.gov.vn"]
    assert stored["urn:1"]["kind"] == "news" and "bầu cử" in str(stored["urn:1"]["text"])
    report = next(r for r in stored.values() if r["kind"] == "report")
    assert report["account_id"] == "+84900000001" and report["platform"] == "sms"
    reasons = sorted(
        (e.source.split("/")[-1], e.line, e.reason) for e in deployment.quarantine.entries(DATASET)
    )
    assert reasons == [
        ("posts.csv", 2, "reactions: not a whole number: 'x'"),
        (
            "posts.jsonl",
            2,
            "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
        ("posts.jsonl", 3, "created_at: not a date and time: 'yesterday' (use 2026-03-14 07:00)"),
        ("reported.sms", 2, "not '[time] sender: text'"),
    ]
    again = ingest_paths(deployment, [tmp_path])
    assert (again.rows, again.skipped, again.batch) == (0, 4, None)
    assert len(rows(deployment)) == 4


def test_language_detected_offline(deployment: Deployment, tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    texts = {
        "vi": "Bầu cử đại biểu Quốc hội diễn ra vào ngày chủ nhật",
        "en": "Voting opens at seven in the morning on Sunday",
    }
    path.write_text(
        "\n".join(
            json.dumps({**POST, "post_id": k, "text": t}, ensure_ascii=False)
            for k, t in texts.items()
        ),
        encoding="utf-8",
    )
    ingest_paths(deployment, [path])
    assert {r["post_id"]: r["lang"] for r in rows(deployment)} == {"vi": "vi", "en": "en"}


def test_vietnamese_normalised() -> None:
    composed = "Bầu cử"
    decomposed = unicodedata.normalize("NFD", composed)
    assert clean(decomposed) == composed
    assert clean(composed.encode("utf-8").decode("cp1252")) == composed  # mojibake repaired
    assert decode_bytes("C\u01b0\u0309 tri".encode("cp1258"))[0] == "Cử tri"
    assert (
        fold("Bầu cử ko cần CCCD, ck 500k nhé")
        == "bau cu khong can can cuoc cong dan chuyen khoan 500k nhe"
    )
    assert fold("bau cu") == fold("BẦU CỬ")


def test_links_defanged_and_bare_domains() -> None:
    found = [
        link.domain
        for link in extract_links(
            "vào vcb-online[.]vn hoặc https://ib.VCB.com.vn/x, file.docx 7.30"
        )
    ]
    assert found == ["vcb-online.vn", "vcb.com.vn"]


def test_missing_fields_are_record_errors() -> None:
    for broken, reason in [
        ({**POST, "post_id": ""}, "post_id: missing"),
        ({**POST, "text": "  "}, "text: empty"),
        ({**POST, "links": "[1,"}, "links: not a JSON list"),
        ({**POST, "shares": -1}, "shares: negative: -1"),
    ]:
        try:
            to_row(broken)
        except RecordError as e:
            assert str(e) == reason
        else:
            raise AssertionError(f"accepted {broken}")


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([*POST, "sender", "junk"]),
        st.one_of(st.text(), st.integers(), st.none(), st.lists(st.text())),
    )
)
def test_any_record_is_a_row_or_a_record_error(record: dict[str, object]) -> None:
    try:
        row = to_row(record)
    except RecordError:
        return
    assert row["post_id"] and row["platform"] and row["text"].strip()
