"""The demo province end to end: build, detect, then the Vietnamese handover PDF from it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vigil.cli import build_cli

runner = CliRunner()


def test_demo_province_handover_pdf_in_vietnamese(tmp_path: Path) -> None:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is missing: apt-get install poppler-utils")
    data = tmp_path / "vigil-data"
    built = runner.invoke(build_cli(), ["demo", str(data), "--persons", "1000", "--no-serve"])
    assert built.exit_code == 0, built.output

    # What the demo planted for the duty room was found by the detectors.
    truth = json.loads((data / "demo" / "ground_truth.json").read_text(encoding="utf-8"))
    overdue = [t["subject"] for t in truth["planted"] if t["rule"] == "case-overdue"]
    assert overdue == ["VV-2027-0001"]
    listed = runner.invoke(
        build_cli(), ["findings", "list", "--data", str(data), "--capability", "cases", "--json"]
    )
    assert listed.exit_code == 0, listed.output
    rules = sorted(json.loads(line)["rule"] for line in listed.output.splitlines())
    assert rules == ["case-overdue", "duty-gap"]

    out = tmp_path / "handover.pdf"
    report = runner.invoke(
        build_cli(),
        [
            "report", "handover", "--data", str(data), "--lang", "vi",
            "--start", "2027-03-05 07:00", "--end", "2027-03-05 15:00", "--out", str(out),
        ],
    )  # fmt: skip
    assert report.exit_code == 0, report.output
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    for heading in ("BÁO CÁO BÀN GIAO CA TRỰC", "Vụ việc đang mở", "Quá hạn", "Tỉnh Bình Sơn"):
        assert heading in text, heading
    assert "VV-2027-0001" in text
    # The overdue case's title, however the table wrapped it.
    from sqlalchemy import select

    from vigil.cases.models import Case
    from vigil.core.config import Settings
    from vigil.deployment import Deployment

    dep = Deployment.open(Settings(data=data))
    try:
        with dep.store.reader() as session:
            title = session.scalars(select(Case.title).where(Case.number == "VV-2027-0001")).one()
    finally:
        dep.close()
    assert "".join(title.split())[:40] in "".join(text.split())


def test_a_demo_directory_keeps_its_scenario_time(tmp_path: Path) -> None:
    from datetime import datetime

    from vigil.core.config import Settings
    from vigil.deployment import Deployment

    data = tmp_path / "d"
    assert (
        runner.invoke(build_cli(), ["demo", str(data), "--persons", "300", "--no-run"]).exit_code
        == 0
    )
    dep = Deployment.open(Settings(data=data))
    try:
        assert dep.now() == datetime(2027, 3, 5, 2, 0)  # 09:00 in UTC+7
        assert dep.calendar.phase_at(dep.now()) == "before"
    finally:
        dep.close()
