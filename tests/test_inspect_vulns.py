"""Known-vulnerable software: OSV data imported offline (folders, zips, OSV-Scanner's all.zip,
KEV), inventories of every supported format, versions compared by each ecosystem's rules."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.conftest import shared_data
from vigil.cli import build_cli
from vigil.deployment import Deployment
from vigil.inspect.vulns.inventories import Component, read_inventory
from vigil.inspect.vulns.match import match_inventory
from vigil.inspect.vulns.osv import _parse, _sources, advisory_rows, import_path
from vigil.inspect.vulns.versions import affected, parse_version

PYPI_ADVISORY = """\
id: PYSEC-TEST-1
modified: 2024-05-01T00:00:00Z
aliases: [CVE-2021-44228]
summary: test advisory
affected:
- package: {ecosystem: PyPI, name: Demo_Pkg}
  ranges:
  - type: ECOSYSTEM
    events: [{introduced: "1.0"}, {fixed: "1.4.2"}, {introduced: "2.0rc1"}, {fixed: "2.1"}]
"""
GO_ADVISORY = {
    "id": "GO-TEST-2",
    "modified": "2026-01-02T00:00:00Z",
    "affected": [
        {
            "package": {"ecosystem": "Go", "name": "example.com/mod"},
            "ranges": [
                {"type": "SEMVER", "events": [{"introduced": "0"}, {"last_affected": "1.9.0"}]}
            ],
        }
    ],
}
KEV = {
    "catalogVersion": "2025.08.25",
    "count": 1,
    "vulnerabilities": [{"cveID": "CVE-2021-44228", "dateAdded": "2021-12-10"}],
}


def _osv_folder(root: Path) -> Path:
    folder = root / "osv"
    (folder / "pypi").mkdir(parents=True)
    (folder / "go").mkdir()
    (folder / "pypi" / "PYSEC-TEST-1.yaml").write_text(PYPI_ADVISORY, encoding="utf-8")
    (folder / "go" / "GO-TEST-2.json").write_text(json.dumps(GO_ADVISORY), encoding="utf-8")
    (folder / "go" / "GO-BROKEN.json").write_text(
        '{"id": "GO-BROKEN", "affected": 3}', encoding="utf-8"
    )
    return folder


def test_import_is_idempotent_quarantines_and_reads_all_zip(
    deployment: Deployment, tmp_path: Path
) -> None:
    folder = _osv_folder(tmp_path)
    first = import_path(deployment.lake, deployment.quarantine, folder)
    assert (first.files, first.advisories, first.rows) == (3, 2, 2)
    assert [(p.location.source, p.message) for p in first.problems] == [
        (str(folder / "go" / "GO-BROKEN.json"), "GO-BROKEN: 'affected' must be a list")
    ]
    assert [e.source for e in deployment.quarantine.entries("osv_affected")] == [
        str(folder / "go" / "GO-BROKEN.json")
    ]
    again = import_path(deployment.lake, deployment.quarantine, folder)
    assert (again.advisories, again.skipped) == (0, 3)
    # OSV-Scanner's offline layout: one all.zip per ecosystem, holding the same advisories.
    zipped = tmp_path / "offline" / "PyPI" / "all.zip"
    zipped.parent.mkdir(parents=True)
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("PYSEC-TEST-1.yaml", PYPI_ADVISORY)
    assert import_path(deployment.lake, deployment.quarantine, tmp_path / "offline").skipped == 1
    assert deployment.lake.rows("osv_affected") == 2
    kev = tmp_path / "known_exploited_vulnerabilities.json"
    kev.write_text(json.dumps(KEV), encoding="utf-8")
    assert import_path(deployment.lake, deployment.quarantine, kev).kev == 1
    assert import_path(deployment.lake, deployment.quarantine, kev).kev == 0

    found = match_inventory(
        deployment.lake,
        [
            Component("PyPI", "demo-pkg", "1.4.1"),
            Component("PyPI", "demo.pkg", "1.4.2"),
            Component("PyPI", "DEMO_PKG", "2.0"),
            Component("PyPI", "demo-pkg", "2.0b1"),
            Component("Go", "example.com/mod", "v1.9.0"),
            Component("Go", "example.com/mod", "v1.10.0"),
        ],
    )
    assert [
        (m.component.version, m.advisory.advisory, m.known_exploited, m.severity.label)
        for m in found
    ] == [
        ("1.4.1", "PYSEC-TEST-1", True, "critical"),
        ("2.0", "PYSEC-TEST-1", True, "critical"),
        ("v1.9.0", "GO-TEST-2", False, "high"),
    ]
    assert found[0].advisory.snapshot == "2024-05-01"  # PyPI's own date, not Go's
    assert found[2].advisory.snapshot == "2026-01-02"


def test_vulns_match_json_lines(deployment: Deployment, tmp_path: Path) -> None:
    import_path(deployment.lake, deployment.quarantine, _osv_folder(tmp_path))
    inventory = tmp_path / "requirements.txt"
    inventory.write_text("Demo-Pkg==1.2\nsafe==1.0\nnot a requirement\n", encoding="utf-8")
    data = str(deployment.settings.data)
    result = CliRunner().invoke(
        build_cli(), ["vulns", "match", str(inventory), "--json", "--data", data]
    )
    assert result.exit_code == 3, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert lines == [
        {
            "ecosystem": "PyPI",
            "name": "Demo-Pkg",
            "version": "1.2",
            "advisory": "PYSEC-TEST-1",
            "aliases": ["CVE-2021-44228"],
            "fixed": ["1.4.2", "2.1"],
            "known_exploited": False,
            "snapshot": "2024-05-01",
            "summary": "test advisory",
        }
    ]


def test_every_inventory_format(tmp_path: Path) -> None:
    files = {
        "bom.json": {
            "bomFormat": "CycloneDX",
            "components": [
                {"name": "jinja2", "purl": "pkg:pypi/jinja2@2.10"},
                {"name": "gin", "purl": "pkg:golang/github.com/gin-gonic/gin@v1.6.0"},
                {"name": "core", "purl": "pkg:npm/%40angular/core@9.0.0"},
                {"name": "firmware"},
            ],
        },
        "spdx.json": {
            "spdxVersion": "SPDX-2.3",
            "packages": [
                {
                    "name": "openssl",
                    "externalRefs": [
                        {
                            "referenceType": "purl",
                            "referenceLocator": "pkg:deb/debian/openssl@3.0.11-1~deb12u2",
                        }
                    ],
                }
            ],
        },
        "package-lock.json": {
            "lockfileVersion": 3,
            "packages": {"": {"name": "app"}, "node_modules/lodash": {"version": "4.17.15"}},
        },
    }
    for name, doc in files.items():
        (tmp_path / name).write_text(json.dumps(doc), encoding="utf-8")
    (tmp_path / "go.sum").write_text(
        "golang.org/x/text v0.3.5 h1:x=\ngolang.org/x/text v0.3.5/go.mod h1:y=\n", encoding="utf-8"
    )
    (tmp_path / "Cargo.lock").write_text(
        'version = 3\n[[package]]\nname = "smallvec"\nversion = "1.6.0"\n', encoding="utf-8"
    )
    (tmp_path / "dpkg.txt").write_text(
        "Desired=Unknown\n||/ Name Version Architecture Description\n"
        "ii  openssl:amd64  3.0.11-1~deb12u2 amd64 toolkit\nrc  old 1.0 all gone\n",
        encoding="utf-8",
    )
    read = {
        name: read_inventory(tmp_path / name)
        for name in [*files, "go.sum", "Cargo.lock", "dpkg.txt"]
    }
    assert read["bom.json"][0] == [
        Component("PyPI", "jinja2", "2.10"),
        Component("Go", "github.com/gin-gonic/gin", "v1.6.0"),
        Component("npm", "@angular/core", "9.0.0"),
    ]
    assert [p.location.record for p in read["bom.json"][1]] == ["component[3]"]
    assert read["spdx.json"][0] == [Component("Debian", "openssl", "3.0.11-1~deb12u2")]
    assert read["package-lock.json"][0] == [Component("npm", "lodash", "4.17.15")]
    assert read["go.sum"][0] == [Component("Go", "golang.org/x/text", "v0.3.5")]
    assert read["Cargo.lock"][0] == [Component("crates.io", "smallvec", "1.6.0")]
    assert read["dpkg.txt"][0] == [Component("Debian", "openssl", "3.0.11-1~deb12u2")]


@pytest.mark.shared_data
def test_every_affected_version_is_vulnerable_and_every_fixed_one_is_not() -> None:
    """Over every advisory of ../shared/data/osv (PyPI, Go, crates)."""
    root = shared_data("osv")
    checked_affected = checked_fixed = 0
    contradictions = []
    for source in _sources(root):
        for row in advisory_rows(_parse(source)):
            ranges, eco = json.loads(row["ranges"]), row["ecosystem"]
            for version in row["versions"]:
                assert affected(eco, version, ranges, row["versions"]), (row["advisory"], version)
                checked_affected += 1
            for fixed in row["fixed"]:
                checked_fixed += 1
                if affected(eco, fixed, ranges, row["versions"]):
                    # Only where the advisory says both: the version listed as affected, or
                    # introduced again at the version that fixes.
                    introduced = {e.get("introduced") for r in ranges for e in r.get("events", [])}
                    assert fixed in row["versions"] or fixed in introduced, (row["advisory"], fixed)
                    contradictions.append(row["advisory"])
    assert checked_affected > 140_000 and checked_fixed > 12_000
    assert sorted(contradictions) == [
        "PYSEC-2021-114",
        "PYSEC-2022-236",
        "PYSEC-2023-177",
        "PYSEC-2023-72",
    ]


_release = st.tuples(*[st.integers(0, 30)] * 3)


@given(_release, _release)
def test_pypi_go_crates_order_releases_numerically(
    a: tuple[int, int, int], b: tuple[int, int, int]
) -> None:
    for eco, prefix in (("PyPI", ""), ("Go", "v"), ("crates.io", ""), ("npm", "")):
        va = parse_version(eco, prefix + ".".join(map(str, a)))
        vb = parse_version(eco, prefix + ".".join(map(str, b)))
        assert va is not None and vb is not None
        assert (va < vb) == (a < b) and (va == vb) == (a == b), eco


@given(_release, st.integers(0, 9))
def test_pre_releases_come_before_their_release(a: tuple[int, int, int], n: int) -> None:
    text = ".".join(map(str, a))
    assert parse_version("PyPI", f"{text}rc{n}") < parse_version("PyPI", text)  # type: ignore[operator]
    assert parse_version("crates.io", f"{text}-alpha.{n}") < parse_version("crates.io", text)  # type: ignore[operator]
    assert parse_version("Go", f"v{text}-pre.{n}") < parse_version("Go", f"v{text}")  # type: ignore[operator]


@given(st.integers(0, 3), st.integers(0, 3), _release, st.integers(1, 20), st.integers(1, 20))
def test_debian_epoch_then_upstream_then_revision(
    e1: int, e2: int, up: tuple[int, int, int], r1: int, r2: int
) -> None:
    upstream = ".".join(map(str, up))
    a = parse_version("Debian", f"{e1}:{upstream}-1+deb12u{r1}")
    b = parse_version("Debian", f"{e2}:{upstream}-1+deb12u{r2}")
    assert a is not None and b is not None
    assert (a < b) == ((e1, r1) < (e2, r2))


@given(_release, _release, _release)
def test_a_range_holds_what_lies_between_introduced_and_fixed(
    lo: tuple[int, int, int], hi: tuple[int, int, int], v: tuple[int, int, int]
) -> None:
    lo, hi = min(lo, hi), max(lo, hi)

    def dotted(t: tuple[int, int, int]) -> str:
        return ".".join(map(str, t))

    ranges = [{"type": "ECOSYSTEM", "events": [{"introduced": dotted(lo)}, {"fixed": dotted(hi)}]}]
    for eco in ("PyPI", "crates.io"):
        assert affected(eco, dotted(v), ranges, []) == (lo <= v < hi), (eco, lo, hi, v)
