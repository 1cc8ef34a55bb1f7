"""Indicator imports: STIX 2.1, MISP, signature-base lists; the store never duplicates."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import BEFORE, shared_data
from vigil.core.access import Actor, Role
from vigil.core.errors import IngestError, PermissionDenied
from vigil.core.indicators import Indicator, IndicatorKind
from vigil.core.problems import ProblemSeverity
from vigil.deployment import Deployment
from vigil.monitor.detect.indicators.feeds import (
    UnsupportedPattern,
    detect_format,
    import_indicators,
    read_misp,
    read_sigbase,
    read_stix,
    stix_pattern_values,
)
from vigil.store.indicators import (
    count_indicators,
    list_indicators,
    load_matcher,
    upsert_indicators,
)
from vigil.store.models import AuditEntry, IndicatorRow

K = IndicatorKind
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
IDENTITY = "identity--5c8c5b2e-0b7a-4e0b-9d35-0d2a9b1c7e11"


def _indicator(uuid: str, pattern: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid}",
        "created": "2026-01-10T08:00:00.000Z",
        "modified": "2026-01-10T08:00:00.000Z",
        "created_by_ref": IDENTITY,
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2026-01-10T08:00:00Z",
        **extra,
    }


def stix_bundle() -> dict[str, Any]:
    return {
        "type": "bundle",
        "id": "bundle--0f6c3a53-6b0e-4f43-9c8e-2c1d61f0d1a1",
        "objects": [
            {
                "type": "identity",
                "spec_version": "2.1",
                "id": IDENTITY,
                "created": "2026-01-01T00:00:00.000Z",
                "modified": "2026-01-01T00:00:00.000Z",
                "name": "VNCERT test feed",
                "identity_class": "organization",
            },
            _indicator(
                "1b0b7a43-6f6b-4b3a-8d0e-111111111111",
                "[ipv4-addr:value = '198.51.100.7']",
                name="C2 server",
                confidence=85,
                indicator_types=["malicious-activity"],
                valid_until="2026-06-01T00:00:00Z",
            ),
            _indicator(
                "1b0b7a43-6f6b-4b3a-8d0e-222222222222",
                "[domain-name:value = 'Bau-Cu-Gia.example'] OR [url:value = 'http://bau-cu-gia.example/login']",
                name="Fake election portal",
            ),
            _indicator(
                "1b0b7a43-6f6b-4b3a-8d0e-333333333333",
                f"[file:hashes.'SHA-256' = '{EMPTY_SHA256.upper()}' "
                "OR file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
                confidence=90,
            ),
            _indicator(
                "1b0b7a43-6f6b-4b3a-8d0e-444444444444",
                "[ipv4-addr:value IN ('203.0.113.0/24', '192.0.2.1')]",
            ),
            _indicator(
                "1b0b7a43-6f6b-4b3a-8d0e-555555555555",
                "[file:name = 'x.exe' AND file:size > 100]",
            ),
            _indicator(
                "1b0b7a43-6f6b-4b3a-8d0e-666666666666",
                "[domain-name:value = 'revoked.example']",
                revoked=True,
            ),
            _indicator(
                "1b0b7a43-6f6b-4b3a-8d0e-777777777777",
                "title: x",
                pattern_type="sigma",
            ),
            _indicator(
                "1b0b7a43-6f6b-4b3a-8d0e-888888888888",
                "[domain-name:value = 'expired.example']",
                valid_until="2026-01-20T00:00:00Z",
            ),
            {"type": "indicator", "id": "indicator--bad"},
            {
                "type": "malware",
                "spec_version": "2.1",
                "id": "malware--1b0b7a43-6f6b-4b3a-8d0e-999999999999",
                "created": "2026-01-10T08:00:00.000Z",
                "modified": "2026-01-10T08:00:00.000Z",
                "name": "x",
                "is_family": False,
            },
        ],
    }


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_stix_bundle_imports_the_right_indicators(tmp_path: Path) -> None:
    path = write_json(tmp_path / "feed.json", stix_bundle())
    assert detect_format(path) == "stix"

    report = read_stix(path)

    got = sorted((i.kind.value, i.value, i.source, i.confidence) for i in report.indicators)
    assert got == [
        ("cidr", "203.0.113.0/24", "VNCERT test feed", 50),
        ("domain", "bau-cu-gia.example", "VNCERT test feed", 50),
        ("domain", "expired.example", "VNCERT test feed", 50),
        ("ip", "192.0.2.1", "VNCERT test feed", 50),
        ("ip", "198.51.100.7", "VNCERT test feed", 85),
        ("md5", "d41d8cd98f00b204e9800998ecf8427e", "VNCERT test feed", 90),
        (
            "sha256",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "VNCERT test feed",
            90,
        ),
        ("url", "http://bau-cu-gia.example/login", "VNCERT test feed", 50),
    ]
    c2 = next(i for i in report.indicators if i.value == "198.51.100.7")
    assert c2.valid_from == datetime(2026, 1, 10, 8, 0)
    assert c2.valid_until == datetime(2026, 6, 1)
    assert c2.tags == ("malicious-activity",)
    assert c2.description == "C2 server"
    assert c2.external_id == "indicator--1b0b7a43-6f6b-4b3a-8d0e-111111111111"

    problems = sorted(
        (str(p.location), p.message.split(":")[0], p.code, p.severity) for p in report.problems
    )
    assert problems == [
        (
            f"{path} [indicator--1b0b7a43-6f6b-4b3a-8d0e-555555555555]",
            "unsupported pattern",
            "pattern",
            ProblemSeverity.ERROR,
        ),
        (
            f"{path} [indicator--1b0b7a43-6f6b-4b3a-8d0e-777777777777]",
            "pattern type 'sigma' is not supported",
            "pattern-type",
            ProblemSeverity.ERROR,
        ),
        (f"{path} [indicator--bad]", "invalid STIX indicator", "stix", ProblemSeverity.ERROR),
    ]
    assert dict(report.skipped) == {"not an indicator": 2, "revoked": 1}

    assert read_stix(path, source="override").indicators[0].source == "override"


@pytest.mark.parametrize(
    ("pattern", "values"),
    [
        ("[ipv6-addr:value = '2001:db8::/32']", [(K.CIDR, "2001:db8::/32")]),
        ("[email-addr:value = 'a@b.example']", [(K.EMAIL, "a@b.example")]),
        ("[file:hashes.'SHA-1' = 'aa']", [(K.SHA1, "aa")]),
        (
            "[(domain-name:value = 'a.example' OR domain-name:value = 'b.example')]",
            [
                (K.DOMAIN, "a.example"),
                (K.DOMAIN, "b.example"),
            ],
        ),
    ],
)
def test_stix_simple_patterns(pattern: str, values: list[tuple[IndicatorKind, str]]) -> None:
    assert stix_pattern_values(pattern) == values


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("[ipv4-addr:value != '1.2.3.4']", "EqualityComparison is not supported"),
        ("[domain-name:value MATCHES 'a.*']", "MatchesComparison is not supported"),
        (
            "[domain-name:value = 'a.example'] WITHIN 60 SECONDS",
            "QualifiedObservation is not supported",
        ),
        (
            "[domain-name:value = 'a.example'] AND [url:value = 'http://a.example/']",
            "AndObservation",
        ),
        ("[process:name = 'x.exe']", "process:name is not supported"),
        ("[file:hashes.'SSDEEP' = 'x']", "hash type"),
        ("[ipv4-addr:value = ", "pattern does not parse"),
    ],
)
def test_stix_unsupported_patterns(pattern: str, reason: str) -> None:
    with pytest.raises(UnsupportedPattern, match=reason.replace("(", r"\(")):
        stix_pattern_values(pattern)


def misp_event() -> dict[str, Any]:
    return {
        "Event": {
            "uuid": "5f1c1d6e-0000-4000-8000-000000000001",
            "info": "Phishing against the provincial election committee",
            "threat_level_id": "1",
            "Orgc": {"name": "CERT-P01"},
            "Tag": [{"name": "tlp:amber"}, {"name": "election"}],
            "Attribute": [
                {"uuid": "a-1", "type": "ip-dst", "value": "198.51.100.20", "to_ids": True},
                {"uuid": "a-2", "type": "domain", "value": "bau-cu.example", "to_ids": False},
                {
                    "uuid": "a-3",
                    "type": "filename|md5",
                    "value": "phieu-bau.docm|D41D8CD98F00B204E9800998ECF8427E",
                    "to_ids": True,
                    "comment": "macro dropper",
                    "Tag": [{"name": "dropper"}],
                },
                {
                    "uuid": "a-4",
                    "type": "hostname|port",
                    "value": "c2.evil.example|8443",
                    "to_ids": True,
                },
                {"uuid": "a-5", "type": "ip-src", "value": "not-an-ip", "to_ids": True},
                {"uuid": "a-6", "type": "text", "value": "free text", "to_ids": True},
                {
                    "uuid": "a-7",
                    "type": "url",
                    "value": "http://gone.example/",
                    "to_ids": True,
                    "deleted": True,
                },
            ],
            "Object": [
                {
                    "name": "file",
                    "Attribute": [
                        {"uuid": "o-1", "type": "sha256", "value": "a" * 64, "to_ids": "1"},
                        {
                            "uuid": "o-2",
                            "type": "url",
                            "value": "hxxp://evil[.]example/a",
                            "to_ids": True,
                        },
                    ],
                }
            ],
        }
    }


def test_misp_event_import(tmp_path: Path) -> None:
    path = write_json(tmp_path / "event.json", misp_event())
    assert detect_format(path) == "misp"

    report = read_misp(path)

    source = "Phishing against the provincial election committee"
    got = sorted((i.kind.value, i.value, i.external_id) for i in report.indicators)
    assert got == [
        ("domain", "c2.evil.example", "a-4"),
        ("filename", "phieu-bau.docm", "a-3"),
        ("ip", "198.51.100.20", "a-1"),
        ("md5", "d41d8cd98f00b204e9800998ecf8427e", "a-3"),
        ("sha256", "a" * 64, "o-1"),
        ("url", "http://evil.example/a", "o-2"),
    ]
    assert {i.source for i in report.indicators} == {source}
    assert {i.confidence for i in report.indicators} == {90}
    dropper = next(i for i in report.indicators if i.kind is K.MD5)
    assert dropper.tags == ("tlp:amber", "election", "dropper")
    assert dropper.description == "macro dropper"
    assert [(str(p.location), p.message) for p in report.problems] == [
        (
            f"{path} [5f1c1d6e-0000-4000-8000-000000000001 Attribute[4]]",
            "not an IP address: 'not-an-ip'",
        )
    ]
    assert dict(report.skipped) == {
        "to_ids is false": 1,
        "type text is not an indicator kind": 1,
        "deleted": 1,
    }


def test_formats_that_are_not_feeds(tmp_path: Path) -> None:
    with pytest.raises(
        IngestError, match=r"cannot tell the format: use --format stix\|misp\|sigbase"
    ):
        detect_format(write_json(tmp_path / "x.json", {"not": "a feed"}))
    (tmp_path / "bad.json").write_text("{oops", encoding="utf-8")
    with pytest.raises(IngestError, match=r"bad.json:1: not JSON"):
        detect_format(tmp_path / "bad.json")
    with pytest.raises(IngestError, match="the name must contain hash or filename or c2"):
        read_sigbase(write_json(tmp_path / "keywords.txt", "x"))


SIGBASE_HASHES = """\
# LOKI CUSTOM EVIL HASHES
# MD5;COMMENT
d41d8cd98f00b204e9800998ecf8427e;Test campaign one
not-a-hash;broken line
# Election phishing 2026
DA39A3EE5E6B4B0D3255BFEF95601890AFD80709
d41d8cd98f00b204e9800998ecf8427e;a repeat
"""


def test_sigbase_malformed_lines_are_quarantined_with_file_and_line(
    tmp_path: Path, deployment: Deployment
) -> None:
    path = tmp_path / "my-hash-iocs.txt"
    path.write_bytes(SIGBASE_HASHES.encode() + b"\xff\xfe;latin\n")

    with deployment.store.session() as session:
        (report,), result = import_indicators(
            session, deployment.system(), [path], quarantine=deployment.quarantine
        )

    assert [(i.kind.value, i.value, i.description) for i in report.indicators] == [
        ("md5", "d41d8cd98f00b204e9800998ecf8427e", "Test campaign one"),
        ("sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709", "Election phishing 2026"),
    ]
    assert dict(report.skipped) == {"duplicate": 1}
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    entries = sorted(deployment.quarantine.entries("indicators"), key=lambda e: e.line or 0)
    assert [(e.source, e.line, e.reason, e.raw) for e in entries] == [
        (str(path), 4, "not an MD5, SHA-1 or SHA-256 hash: 'not-a-hash'", "not-a-hash;broken line"),
        (str(path), 8, "not UTF-8", "ÿþ;latin\n"),
    ]


@pytest.mark.shared_data
def test_signature_base_iocs_import_counts_and_reimport_adds_nothing(
    deployment: Deployment,
) -> None:
    iocs = shared_data("yara", "signature-base", "iocs")
    paths = [iocs / "hash-iocs.txt", iocs / "c2-iocs.txt", iocs / "filename-iocs.txt"]

    with deployment.store.session() as session:
        reports, result = import_indicators(session, deployment.system(), paths)

    assert [r.kinds() for r in reports] == [
        {"md5": 986, "sha1": 893, "sha256": 1174},
        {"domain": 1655, "ip": 118},
        {"filename_regex": 3711},
    ]
    assert [r.problems for r in reports] == [[], [], []]
    assert [dict(r.skipped) for r in reports] == [
        {"duplicate": 171},
        {"duplicate": 71},
        {"duplicate": 117},
    ]
    assert (result.created, result.updated, result.unchanged) == (8537, 0, 0)

    with deployment.store.session() as session:
        _, again = import_indicators(session, deployment.system(), paths)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 8537)

    with deployment.store.reader() as session:
        assert session.scalar(select(func.count()).select_from(IndicatorRow)) == 8537
        assert count_indicators(session)[("signature-base", "filename_regex")] == 3711
        matcher = load_matcher(session, active_at=BEFORE)
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["indicator.import", "indicator.import"]
    assert len(matcher) == 8537
    (c2,) = matcher.lookup("www.suroot.com")
    assert (c2.value, c2.description) == (
        "suroot.com",
        "FireEye Operation Snowman https://goo.gl/x1v7mT",
    )
    procdump = matcher.lookup(r"C:\Users\bob\procdump64.exe", "filename")
    assert procdump and all(i.kind is K.FILENAME_REGEX for i in procdump)


def test_upsert_updates_changed_and_respects_permissions(any_deployment: Deployment) -> None:
    deployment = any_deployment
    actor = deployment.system()
    first = [
        Indicator(K.DOMAIN, "evil.example", "feed", confidence=50),
        Indicator(K.IP, "192.0.2.1", "feed", valid_until=datetime(2026, 1, 1)),
    ]
    with deployment.store.session() as session:
        created = upsert_indicators(session, actor, first)
    assert (created.created, created.updated, created.unchanged) == (2, 0, 0)

    changed = [Indicator(K.DOMAIN, "EVIL.example.", "feed", confidence=70), first[1]]
    with deployment.store.session() as session:
        updated = upsert_indicators(session, actor, changed)
    assert (updated.created, updated.updated, updated.unchanged) == (0, 1, 1)

    with deployment.store.reader() as session:
        rows = list_indicators(session, actor)
        assert [(r.kind, r.value, r.confidence) for r in rows] == [
            ("domain", "evil.example", 70),
            ("ip", "192.0.2.1", 50),
        ]
        active = list_indicators(session, actor, active_at=BEFORE)
        assert [r.value for r in active] == ["evil.example"]

    viewer = Actor("v", Role.VIEWER, "P01", frozenset({"P01"}))
    with deployment.store.session() as session, pytest.raises(PermissionDenied):
        upsert_indicators(session, viewer, first)
