"""The import rules of pyproject.toml ([tool.importlinter]) hold, and they do catch a breach: a
room importing another, or a lower layer importing a higher one, inside a function too."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import vigil

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [str(LINT), "--no-cache", "--config", str(ROOT / "pyproject.toml")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )


def test_import_rules_hold() -> None:
    done = _lint()
    if done.returncode != 0:
        pytest.fail(f"import rules broken:\n{done.stdout}\n{done.stderr}")
    assert "Layers: each imports only from those below it KEPT" in done.stdout
    assert "Rooms: no capability room imports another KEPT" in done.stdout


def test_import_rules_catch_a_room_importing_another_and_the_frame_importing_a_room(
    tmp_path: Path,
) -> None:
    """A copy of the package with two bad imports, both inside functions."""
    copy = tmp_path / "vigil"
    shutil.copytree(Path(vigil.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    with (copy / "monitor" / "review" / "views.py").open("a", encoding="utf-8") as fh:
        fh.write("\n\ndef _probe() -> None:\n    from vigil.cases import duty  # noqa: F401\n")
    with (copy / "web" / "csrf.py").open("a", encoding="utf-8") as fh:
        fh.write(
            "\n\ndef _probe() -> None:\n    from vigil.monitor.review import search  # noqa: F401\n"
        )
    done = _lint(pythonpath=tmp_path)
    assert done.returncode == 1
    report = done.stdout
    assert "Layers: each imports only from those below it BROKEN" in report
    assert "Rooms: no capability room imports another BROKEN" in report
    assert "vigil.web is not allowed to import vigil.monitor:" in report
    assert "- vigil.web.csrf -> vigil.monitor.review.search" in report
    assert "vigil.monitor is not allowed to import vigil.cases:" in report
    assert "- vigil.monitor.review.views -> vigil.cases.duty" in report


def test_a_new_module_without_a_layer_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "vigil"
    shutil.copytree(Path(vigil.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "helpers.py").write_text('"""Anything."""\n', encoding="utf-8")
    done = _lint(pythonpath=tmp_path)
    assert done.returncode == 1
    assert "The following modules are not listed as layers:" in done.stdout
    assert "- vigil.helpers" in done.stdout
