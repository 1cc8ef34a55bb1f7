"""Indicators: normalisation, the matcher (CIDR, subdomains, expiry), and event matching."""

from __future__ import annotations

from datetime import datetime, timedelta

import pyarrow as pa
import pytest

from tests.conftest import BEFORE
from vigil.core.indicators import (
    Indicator,
    IndicatorError,
    IndicatorKind,
    IndicatorMatcher,
    guess_kind,
    normalise,
    severity_of,
)
from vigil.core.severity import Severity
from vigil.monitor.detect.indicators.match import hash_values, match_events

K = IndicatorKind


def ind(kind: str, value: str, source: str = "test", **kw: object) -> Indicator:
    return Indicator(IndicatorKind(kind), value, source, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "raw", "normal"),
    [
        ("ip", " 10.1.2.3 ", "10.1.2.3"),
        ("ip", "10[.]1[.]2[.]3", "10.1.2.3"),
        ("ip", "::ffff:192.0.2.7", "192.0.2.7"),
        ("ip", "2001:DB8:0:0::1", "2001:db8::1"),
        ("ip", "[fe80::1%eth0]", "fe80::1"),
        ("cidr", "10.1.2.3/8", "10.0.0.0/8"),
        ("cidr", "2001:db8:1::/32", "2001:db8::/32"),
        ("domain", "Evil.COM.", "evil.com"),
        ("domain", "*.evil.com", "evil.com"),
        ("domain", "evil[.]com", "evil.com"),
        ("domain", "Bücher.example", "xn--bcher-kva.example"),
        ("domain", "ｅｖｉｌ。com", "evil.com"),
        ("domain", "c2_node.evil.com", "c2_node.evil.com"),
        ("url", "HXXPS://Evil[.]COM:443/Login?x=1#frag", "https://evil.com/Login?x=1"),
        ("url", "evil.com", "http://evil.com/"),
        ("url", "http://[2001:db8::1]:8080/a", "http://[2001:db8::1]:8080/a"),
        ("url", "http://Bücher.example/", "http://xn--bcher-kva.example/"),
        ("md5", "D41D8CD98F00B204E9800998ECF8427E", "d41d8cd98f00b204e9800998ecf8427e"),
        ("email", "Phish@Evil.COM", "phish@evil.com"),
        ("filename", r"C:\Users\Public\EVIL.exe", "c:/users/public/evil.exe"),
    ],
)
def test_normalise(kind: str, raw: str, normal: str) -> None:
    assert normalise(kind, raw) == normal


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        ("ip", "10.1.2"),
        ("ip", "01.2.3.4"),
        ("ip", "evil.com"),
        ("cidr", "10.0.0.0/33"),
        ("domain", "localhost"),
        ("domain", "-bad.com"),
        ("domain", "evil..com"),
        ("domain", "1.2.3.4"),
        ("domain", "a" * 64 + ".com"),
        ("url", "http://"),
        ("url", "http://evil.com:99999/"),
        ("md5", "d41d8cd98f00b204e9800998ecf8427"),
        ("sha1", "d41d8cd98f00b204e9800998ecf8427e"),
        ("sha256", "z" * 64),
        ("email", "no-at-sign.com"),
        ("filename_regex", "(unclosed"),
        ("nonsense", "x"),
    ],
)
def test_normalise_rejects(kind: str, raw: str) -> None:
    with pytest.raises(IndicatorError):
        normalise(kind, raw)


def test_indicator_checks_its_fields() -> None:
    with pytest.raises(IndicatorError, match="confidence 101"):
        ind("ip", "1.2.3.4", confidence=101)
    with pytest.raises(IndicatorError, match="source"):
        ind("ip", "1.2.3.4", source=" ")
    with pytest.raises(IndicatorError, match="longer than 1000"):
        ind("url", "http://evil.com/" + "a" * 1000)
    same = ind("domain", "EVIL.com.", tags=("c2", " c2 ", ""))
    assert same.key == ("domain", "evil.com", "test")
    assert same.tags == ("c2",)


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("1.2.3.4", K.IP),
        ("10.0.0.0/8", K.CIDR),
        ("evil.com", K.DOMAIN),
        ("hxxp://evil[.]com/x", K.URL),
        ("evil.com/x/y", K.URL),
        ("a@evil.com", K.EMAIL),
        ("d41d8cd98f00b204e9800998ecf8427e", K.MD5),
        ("da39a3ee5e6b4b0d3255bfef95601890afd80709", K.SHA1),
        ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", K.SHA256),
        ("mimikatz.exe", K.FILENAME),
        (r"C:\Windows\Temp\x.ps1", K.FILENAME),
    ],
)
def test_guess_kind(value: str, kind: IndicatorKind) -> None:
    assert guess_kind(value) is kind


def test_cidr_and_address_matching_is_exact() -> None:
    slash8 = ind("cidr", "10.0.0.0/8")
    slash16 = ind("cidr", "10.1.0.0/16")
    host = ind("ip", "10.1.2.3")
    v6 = ind("cidr", "2001:db8::/32")
    v6host = ind("ip", "2001:db8::53")
    matcher = IndicatorMatcher([slash8, slash16, host, v6, v6host])

    assert matcher.lookup("10.1.2.3") == [host, slash16, slash8]  # most specific first
    assert matcher.lookup("10.1.9.9") == [slash16, slash8]
    assert matcher.lookup("10.200.0.1") == [slash8]
    assert matcher.lookup("11.0.0.1") == []
    assert matcher.lookup("9.255.255.255") == []
    assert matcher.lookup("::ffff:10.1.2.3") == [host, slash16, slash8]
    assert matcher.lookup("2001:db8::53") == [v6host, v6]
    assert matcher.lookup("2001:db8:ffff::1") == [v6]
    assert matcher.lookup("2001:db9::1") == []
    assert matcher.lookup("10.1.0.0/16", "ip") == [slash16, slash8]
    assert matcher.lookup("not an address", "ip") == []


def test_domain_matching_covers_subdomains_only() -> None:
    evil = ind("domain", "evil.com")
    deep = ind("domain", "c2.cdn.example.org")
    matcher = IndicatorMatcher([evil, deep])

    assert matcher.lookup("evil.com") == [evil]
    assert matcher.lookup("A.B.EVIL.com.") == [evil]
    assert matcher.lookup("notevil.com") == []
    assert matcher.lookup("evil.com.au") == []
    assert matcher.lookup("x.c2.cdn.example.org") == [deep]
    assert matcher.lookup("cdn.example.org") == []
    assert matcher.lookup("http://login.evil.com:8443/x") == [evil]
    assert matcher.lookup("victim@mail.evil.com") == [evil]


def test_url_hash_email_and_filename_matching() -> None:
    url = ind("url", "http://evil.com/gate.php")
    sha = ind("sha256", "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")
    email = ind("email", "ceo@phish.example")
    name = ind("filename", "mimikatz.exe")
    trail = ind("filename", r"Temp\dropper.ps1")
    regex = ind("filename_regex", r"(?i)\\procdump(64)?\.exe", exclude=r"(?i)\\SysInternals\\")
    matcher = IndicatorMatcher([url, sha, email, name, trail, regex])

    assert matcher.lookup("HTTP://EVIL.COM:80/gate.php#x") == [url]
    assert matcher.lookup("http://evil.com/other") == []
    assert matcher.lookup("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == [
        sha
    ]
    assert matcher.lookup("CEO@Phish.Example") == [email]
    assert matcher.lookup(r"C:\Tools\MIMIKATZ.EXE", "filename") == [name]
    assert matcher.lookup(r"C:\Users\x\AppData\Local\Temp\dropper.ps1", "filename") == [trail]
    assert matcher.lookup(r"C:\Users\x\dropper.ps1", "filename") == []
    assert matcher.lookup(r"C:\Tools\procdump64.exe", "filename") == [regex]
    assert matcher.lookup(r"C:\SysInternals\procdump64.exe", "filename") == []
    assert matcher.hash_kinds() == {K.SHA256}


def test_expired_and_future_indicators_do_not_match() -> None:
    expired = ind("domain", "old.example", valid_until=datetime(2026, 1, 1))
    future = ind("domain", "new.example", valid_from=datetime(2026, 3, 1))
    current = ind(
        "domain", "now.example", valid_from=datetime(2025, 1, 1), valid_until=datetime(2027, 1, 1)
    )
    matcher = IndicatorMatcher([expired, future, current])

    assert matcher.match("old.example", at=BEFORE) == []
    assert matcher.match("old.example", at=datetime(2025, 12, 31, 23, 59)) == [expired]
    assert matcher.match("old.example", at=datetime(2026, 1, 1)) == []  # valid_until is exclusive
    assert matcher.match("new.example", at=BEFORE) == []
    assert matcher.match("new.example", at=datetime(2026, 3, 1)) == [future]
    assert matcher.match("x.now.example", at=BEFORE) == [current]
    assert matcher.lookup("old.example") == [expired]  # lookup ignores time


@pytest.mark.parametrize(
    ("kind", "confidence", "severity"),
    [
        ("sha256", 80, Severity.HIGH),
        ("sha256", 95, Severity.CRITICAL),
        ("ip", 80, Severity.MEDIUM),
        ("ip", 30, Severity.LOW),
        ("cidr", 10, Severity.INFO),
        ("domain", 90, Severity.HIGH),
    ],
)
def test_severity_of_indicator(kind: str, confidence: int, severity: Severity) -> None:
    value = {"sha256": "a" * 64, "ip": "1.2.3.4", "cidr": "1.2.3.0/24", "domain": "evil.com"}[kind]
    assert severity_of(ind(kind, value, confidence=confidence)) is severity


def test_hash_values_of_sysmon_field() -> None:
    field = (
        "SHA1=DA39A3EE5E6B4B0D3255BFEF95601890AFD80709,MD5=D41D8CD98F00B204E9800998ECF8427E,"
        "SHA256=E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855,"
        "IMPHASH=F34D5F2D4577ED6D9CEEC516C1F5A744"
    )
    assert hash_values(field) == [
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        "d41d8cd98f00b204e9800998ecf8427e",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ]
    assert hash_values("d41d8cd98f00b204e9800998ecf8427e") == ["d41d8cd98f00b204e9800998ecf8427e"]
    assert hash_values("IMPHASH=F34D5F2D4577ED6D9CEEC516C1F5A744") == []


def _events() -> pa.Table:
    ts = [BEFORE + timedelta(minutes=i) for i in range(5)]
    return pa.table(
        {
            "event_id": ["e1", "e2", "e3", "e4", "e5"],
            "ts": pa.array(ts, pa.timestamp("us")),
            "host": ["ws-01", "ws-01", "ws-02", "srv-01", "ws-03"],
            "unit": ["C01", "C01", "C02", "D01", "C01-POL"],
            "source": ["evtx"] * 5,
            "channel": ["Microsoft-Windows-Sysmon/Operational"] * 5,
            "event_code": pa.array([3, 22, 1, 3, 3], pa.int32()),
            "DestinationIp": ["10.1.2.3", None, None, "8.8.8.8", "203.0.113.9"],
            "QueryName": [None, "cdn.EVIL.com", None, None, None],
            "Hashes": [None, None, "MD5=D41D8CD98F00B204E9800998ECF8427E,IMPHASH=00", None, None],
            "Image": [None, None, r"C:\Temp\mimikatz.exe", None, None],
        }
    )


def test_match_events_finds_exact_rows() -> None:
    c2 = ind("cidr", "10.0.0.0/8", source="feed-a", confidence=60)
    c2b = ind("cidr", "10.0.0.0/8", source="feed-b", confidence=95)
    domain = ind("domain", "evil.com", source="feed-a", confidence=80)
    md5 = ind("md5", "d41d8cd98f00b204e9800998ecf8427e", source="sigbase", confidence=80)
    name = ind("filename", "mimikatz.exe", source="misp-x", confidence=70)
    expired = ind("ip", "203.0.113.9", source="old", valid_until=datetime(2026, 1, 1))
    matcher = IndicatorMatcher([c2, c2b, domain, md5, name, expired])

    findings = match_events(matcher, _events())

    got = sorted((f.rule, f.subject, f.unit, f.occurrences, f.scope, f.severity) for f in findings)
    assert got == [
        ("ioc:cidr", "ws-01", "C01", ("e1",), "cidr:10.0.0.0/8", Severity.MEDIUM),
        ("ioc:domain", "ws-01", "C01", ("e2",), "domain:evil.com", Severity.MEDIUM),
        ("ioc:filename", "ws-02", "C02", ("e3",), "filename:mimikatz.exe", Severity.MEDIUM),
        ("ioc:md5", "ws-02", "C02", ("e3",), "md5:d41d8cd98f00b204e9800998ecf8427e", Severity.HIGH),
    ]
    cidr = next(f for f in findings if f.rule == "ioc:cidr")
    assert cidr.evidence["sources"] == ["feed-a", "feed-b"]
    assert cidr.evidence["confidence"] == 95
    assert cidr.evidence["indicator"]["source"] == "feed-b"  # the most confident first
    assert cidr.evidence["field"] == "DestinationIp"
    assert cidr.evidence["matched"] == "10.1.2.3"
    assert cidr.evidence["event"]["event_code"] == 3
    assert cidr.observed_at == BEFORE
    assert cidr.title == "Indicator of compromise (cidr) 10.0.0.0/8 seen on ws-01"
    assert cidr.title_vi == "Phát hiện dấu hiệu xâm nhập (cidr) 10.0.0.0/8 trên ws-01"

    # The expired indicator matches an event from before its expiry.
    old_events = _events().set_column(
        1, "ts", pa.array([datetime(2025, 6, 1)] * 5, pa.timestamp("us"))
    )
    old = [f for f in match_events(matcher, old_events) if f.rule == "ioc:ip"]
    assert [(f.subject, f.occurrences) for f in old] == [("ws-03", ("e5",))]


def test_match_events_without_indicators_or_columns() -> None:
    assert match_events(IndicatorMatcher([]), _events()) == []
    table = pa.table(
        {"event_id": ["e1"], "host": ["h"], "unit": ["C01"], "CommandLine": ["10.1.2.3"]}
    )
    assert match_events(IndicatorMatcher([ind("ip", "10.1.2.3")]), table) == []
