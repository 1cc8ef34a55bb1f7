"""The control catalog: the built-in one is valid and complete; a broken one is refused with the
file and line of each problem."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from vigil.cli import build_cli
from vigil.inspect.controls.catalog import BUILTIN, builtin_catalog, validate_catalog

GOOD = """\
catalog:
  id: test
  metadata: {title: Test, version: "1"}
  groups:
    - id: data
      class: technical
      title: Data
      controls:
        - id: D-1
          title: Backups
          statement: Backups exist.
          level: 1
          check: backup
profiles:
  - id: p
    title: P
    level: 1
    controls: [D-1]
"""


def test_builtin_catalog_follows_the_framework() -> None:
    catalog = builtin_catalog()
    assert [g.id for g in catalog.groups] == [
        "policy",
        "organisation",
        "staff",
        "design",
        "operation",
        "risk",
        "decommissioning",
        "network",
        "server",
        "application",
        "data",
    ]
    assert {g.cls for g in catalog.groups[:7]} == {"management"}
    assert {g.cls for g in catalog.groups[7:]} == {"technical"}
    assert len(catalog.controls) == 40
    assert set(catalog.profiles) == {"election-systems", "commune-population-office"}
    assert catalog.controls["DAT-1"].links["nist-800-53"] == ("CP-9", "CP-4")
    assert catalog.controls["DAT-1"].check == "backup"
    commune = catalog.profile("commune-population-office")
    assert commune.level == 2
    assert all(catalog.controls[c].level <= 2 for c in commune.controls)


def test_a_valid_catalog_reads(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(GOOD, encoding="utf-8")
    catalog, problems = validate_catalog(path)
    assert problems == []
    assert catalog is not None and list(catalog.controls) == ["D-1"]


def test_each_error_names_its_line(tmp_path: Path) -> None:
    bad = (
        GOOD.replace("level: 1\n          check", "level: 7\n          check")
        .replace("check: backup", "check: telepathy")
        .replace("controls: [D-1]", "controls: [D-1, X-9]")
    )
    path = tmp_path / "c.yaml"
    path.write_text(bad, encoding="utf-8")
    catalog, problems = validate_catalog(path)
    assert catalog is None
    lines = {(p.location.line, p.message) for p in problems}
    assert (12, "control D-1: 'level' must be a whole number from 1 to 5") in lines
    assert (
        13,
        "control D-1: unknown check 'telepathy' (known: manual, backup, irplan, "
        "irplan-exercise, vulns, lynis-index, lynis-warnings)",
    ) in lines
    assert (18, "profile p: no control 'X-9' in the catalog") in lines
    assert all(p.location.source == str(path) for p in problems)


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(GOOD.replace("title: Data", "title: [Data"), encoding="utf-8")
    _catalog, problems = validate_catalog(path)
    assert len(problems) == 1 and problems[0].code == "yaml" and problems[0].location.line == 8


def test_cli_check(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(build_cli(), ["inspect", "catalog", "check"])
    assert ok.exit_code == 0, ok.output
    assert "40 controls in 11 groups, 2 profiles" in ok.output.replace("\n", " ")
    path = tmp_path / "c.yaml"
    path.write_text(GOOD.replace("          statement: Backups exist.\n", ""), encoding="utf-8")
    bad = runner.invoke(build_cli(), ["inspect", "catalog", "check", str(path)])
    assert bad.exit_code == 3
    assert f"{path}:9: error [missing]: control D-1: 'statement' is missing" in bad.output
    assert str(BUILTIN).endswith("builtin.yaml")
