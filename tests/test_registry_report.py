"""The registry's data-quality report on a small built demo (1,000 persons, seed 3): the exact
scores, counts per rule and per required field, household review coverage and duplicate review
status, for one commune and the province, in English and Vietnamese, HTML and PDF."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vigil.cli import build_cli
from vigil.core.access import Actor, Role
from vigil.core.errors import NotFoundError, PermissionDenied
from vigil.demo.build import build_demo, demo_settings
from vigil.demo.officers import DEMO_PASSWORD
from vigil.deployment import Deployment
from vigil.detection import run_detectors
from vigil.registry.report import registry_report
from vigil.registry.review.decisions import decide_pair, mark_reviewed
from vigil.reports.render import render_pdf

#: The commune the demo (1,000 persons, seed 3) plants one invalid ID, one missing address and
#: one duplicate pair in, and its 28 households.
COMMUNE = "C03"
PAIR = ("NK00000241", "NK00000327")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("regreport") / "d"
    result = build_demo(data, persons=1000, seed=3)
    with Deployment.open(result.settings) as dep:
        [run] = run_detectors(dep, {"registry"})
        assert run.error is None
    return data


@pytest.fixture
def dep(built: Path, tmp_path: Path) -> Deployment:
    """A fresh copy of the built demo for each test (decisions made here stay here)."""
    data = tmp_path / "d"
    shutil.copytree(built, data)
    return Deployment.open(demo_settings(data))


def _cells(html: str, attribute: str) -> dict[str, str]:
    """Text of the elements marked `attribute="key"`, by key, tags and spaces flattened."""
    found = {}
    pattern = rf'<(span|tr)[^>]*\b{attribute}="([^"]+)">(.*?)</\1>'
    for _tag, key, body in re.findall(pattern, html, re.S):
        found[key] = " ".join(re.sub(r"<[^>]+>", " ", body).split())
    return found


def test_commune_report_in_english(dep: Deployment) -> None:
    with dep:
        html = registry_report(dep, dep.system("test"), "en", COMMUNE).html
    assert "<h1>Registry data quality</h1>" in html and "Commune: Hoa My Ward." in html
    assert _cells(html, "data-score") == {
        "correct": "98.9 %", "sufficient": "98.9 %", "clean": "97.8 %", "living": "100 %",
    }  # fmt: skip
    assert '<span class="value" data-test="persons">90</span>' in html
    assert '<span class="value" data-test="coverage">0 %</span>' in html
    assert "Households reviewed (0/28)" in html
    rules = _cells(html, "data-rule")
    assert rules["citizen-id-invalid"].endswith("(citizen-id-invalid) 1")
    assert rules["required-field-missing"].endswith("(required-field-missing) 1")
    assert rules["duplicate-person"].endswith("(duplicate-person) 1")
    assert rules["deceased-listed"].endswith("(deceased-listed) 0")
    assert _cells(html, "data-field") == {
        "citizen_id": "citizen_id 0", "full_name": "full_name 0", "sex": "sex 0",
        "birth_date": "birth_date 0", "address": "address 1",
    }  # fmt: skip
    assert _cells(html, "data-status") == {
        "pending": "pending 1", "accepted": "accepted 0", "rejected": "rejected 0",
    }  # fmt: skip
    assert "NK00000241 ~ NK00000327" in html
    assert '<td>Residential Group 5</td><td>Hoa My Ward</td><td class="num">15.4 %</td>' in html
    assert "<svg" in html and 'aria-label="Persons failing each word"' in html
    # The report names no person: the demo's names and birth dates stay out.
    assert "Nguyễn" not in html and "Trần" not in html


def test_decisions_and_reviews_move_the_commune_report(dep: Deployment) -> None:
    with dep:
        officer = dep.system("test")
        with dep.store.session() as session:
            decide_pair(session, officer, *PAIR, "rejected")
            for household in ("HK00000070", "HK00000071"):
                mark_reviewed(session, officer, household, COMMUNE)
        html = registry_report(dep, officer, "en", COMMUNE).html
    # A rejected pair is two persons: "clean" is whole again; two of 28 households reviewed.
    assert _cells(html, "data-score")["clean"] == "100 %"
    assert '<span class="value" data-test="coverage">7.1 %</span>' in html
    assert "Households reviewed (2/28)" in html
    assert _cells(html, "data-status") == {
        "pending": "pending 0", "accepted": "accepted 0", "rejected": "rejected 1",
    }  # fmt: skip
    assert "NK00000241 ~ NK00000327" not in html


def test_province_report_in_vietnamese(dep: Deployment) -> None:
    with dep:
        html = registry_report(dep, dep.system("test"), "vi").html
    assert "<h1>Chất lượng dữ liệu dân cư</h1>" in html
    assert '<span class="value" data-test="persons">1.002</span>' in html
    assert _cells(html, "data-score") == {
        "correct": "99,4 %", "sufficient": "99,6 %", "clean": "99,2 %", "living": "99,9 %",
    }  # fmt: skip
    assert "Hộ đã rà soát (0/282)" in html
    assert _cells(html, "data-status")["pending"] == "chờ quyết định 4"
    assert _cells(html, "data-field")["full_name"] == "họ tên 1"
    assert _cells(html, "data-rule")["household-without-head"].endswith(
        "(household-without-head) 1"
    )
    communes = _cells(html, "data-commune")
    assert len(communes) == 15
    # Worst first, by the lowest of a commune's four scores.
    assert list(communes)[:3] == ["C11", "C15", "C07"]
    assert communes["C03"] == "Phường Hòa Mỹ 90 98,9 % 98,9 % 97,8 % 100 % 0/28 1"


def test_vietnamese_pdf_keeps_the_figures(dep: Deployment, tmp_path: Path) -> None:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is missing: install poppler-utils (scripts/system-deps.sh)")
    with dep:
        report = registry_report(dep, dep.system("test"), "vi", COMMUNE)
    path = tmp_path / "r.pdf"
    path.write_bytes(render_pdf(report.html))
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True).stdout
    flat = " ".join(text.decode("utf-8").split())
    assert "Chất lượng dữ liệu dân cư" in flat and "Phường Hòa Mỹ" in flat
    assert "97,8 %" in flat and "Hộ đã rà soát (0/28)" in flat


def test_cli_writes_the_report_and_refuses_an_unknown_commune(dep: Deployment) -> None:
    data = str(dep.settings.data)
    dep.close()
    cli = build_cli()
    ok = CliRunner().invoke(
        cli, ["report", "registry", COMMUNE, "--html", "--lang", "en", "--data", data]
    )
    assert ok.exit_code == 0, ok.output
    [written] = [Path(line) for line in ok.output.split()]
    assert written.name.startswith("registry-c03-") and "97.8 %" in written.read_text()
    bad = CliRunner().invoke(cli, ["report", "registry", "V0301", "--html", "--data", data])
    assert bad.exit_code == 1 and "no commune 'V0301'" in bad.output


def test_an_officer_sees_only_their_communes(dep: Deployment) -> None:
    with dep:
        officer = Actor("c01", Role.DATA_OFFICER, "C01", frozenset(dep.units.subtree("C01")))
        with pytest.raises(PermissionDenied, match="C03"):
            registry_report(dep, officer, "en", COMMUNE)
        html = registry_report(dep, officer, "en").html
        with pytest.raises(NotFoundError):
            registry_report(dep, dep.system("test"), "en", "NOPE")
    assert list(_cells(html, "data-commune")) == ["C01"]


def test_download_from_the_scorecard_page_is_scoped_to_the_officer(dep: Deployment) -> None:
    from fastapi.testclient import TestClient

    from vigil.web.app import create_app

    settings = dep.settings
    dep.close()
    with TestClient(create_app(settings), follow_redirects=False) as client:
        token = re.compile(r'name="csrf_token" value="([^"]+)"')
        form = token.search(client.get("/login").text)
        assert form
        login = {"username": "c01.duty", "password": DEMO_PASSWORD, "csrf_token": form.group(1)}
        assert client.post("/login", data=login).status_code == 303
        page = client.get("/registry/communes/C01").text
        assert 'action="/reports/registry"' in page
        found = token.search(page)
        assert found
        csrf = found.group(1)
        got = client.post(
            "/reports/registry",
            data={"csrf_token": csrf, "format": "html", "lang": "en", "commune": "C01"},
        )
        assert got.status_code == 200 and "Binh Minh Ward" in got.text
        assert list(_cells(got.text, "data-score")) == ["correct", "sufficient", "clean", "living"]
        other = client.post("/reports/registry", data={"csrf_token": csrf, "commune": "C03"})
        assert other.status_code in (403, 404)
        pdf = client.post("/reports/registry", data={"csrf_token": csrf, "format": "pdf"})
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
