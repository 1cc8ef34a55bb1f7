"""Lynis `report.dat` as evidence: the hardening index and the warnings answer their controls."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.inspect.errors import EvidenceError
from vigil.inspect.evidence.lynis import check_lynis, read_report

REPORT = """\
# Lynis Report
report_version_major=1
hostname=voter-srv01
lynis_tests_done=236
hardening_index=57
warning[]=SSH-7408|Root login over SSH is allowed|PermitRootLogin|-|
warning[]=FIRE-4512|iptables module(s) loaded, but no rules active|-|-|
suggestion[]=AUTH-9262|Install a PAM module for password strength testing|-|-|
this line is broken
"""


def test_index_and_warnings_answer_their_controls(tmp_path: Path) -> None:
    path = tmp_path / "report.dat"
    path.write_text(REPORT, encoding="utf-8")
    report = read_report(path)
    assert (report.hostname, report.index, report.tests_done) == ("voter-srv01", 57, 236)
    assert [(p.location.line, p.message) for p in report.problems] == [(9, "not a key=value line")]
    baseline, warnings = check_lynis(path)
    assert (baseline.check, baseline.status, baseline.codes) == (
        "lynis-index",
        "partial",
        ["low-index"],
    )
    assert (warnings.check, warnings.status) == ("lynis-warnings", "fail")
    assert warnings.codes == ["warning-SSH-7408", "warning-FIRE-4512"]
    assert baseline.detail["suggestions"] == [
        "AUTH-9262: Install a PAM module for password strength testing"
    ]


def test_not_a_lynis_report(tmp_path: Path) -> None:
    path = tmp_path / "report.dat"
    path.write_text("hello=world\n", encoding="utf-8")
    with pytest.raises(EvidenceError, match="no hardening_index"):
        read_report(path)
