"""The monitor's part of the demo: what it plants is exactly what the rules and sensors find."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.deployment import Deployment
from vigil.monitor.demo.build import RULESET, build_demo
from vigil.monitor.demo.replay import SHARED_DATA_ENV
from vigil.monitor.detect.sensors import silence_findings
from vigil.plugins import DemoContext
from vigil.store.findings import list_findings

pytestmark = pytest.mark.filterwarnings("ignore:Arrow output on a DB-API result")


@pytest.fixture(autouse=True)
def no_replay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The synthetic part alone: the SigmaHQ replay is tested in test_monitor_demo_replay.py."""
    monkeypatch.setenv(SHARED_DATA_ENV, str(tmp_path / "absent"))


def test_planted_attacks_are_found_and_nothing_else(deployment: Deployment) -> None:
    ctx = DemoContext(deployment=deployment, seed=2027, persons=0)
    build_demo(ctx)
    planted = {(t.rule, t.subject, t.unit) for t in ctx.truth}
    # Five attacks and a silent sensor in the logs, a web shell and a ransom note among the files;
    # the base rule of the logon burst fires on each failed logon too (planted: the summary counts
    # it as found, not as a finding nobody planted).
    assert len(planted) == 9
    burst_base = ("0f3a6a52-5c1e-4b7e-9d44-3b2a1f7c0004", "c01-pc01", "C01")
    assert burst_base in planted
    with deployment.store.reader() as session:
        found = {(f.rule, f.subject, f.unit) for f in list_findings(session, capability="monitor")}
    # The silent sensor is recorded already, and `vigil detect` would find nothing more.
    assert {(f.rule, f.subject, f.unit) for f in silence_findings(deployment)} <= found
    files = deployment.settings.data.resolve() / "demo" / "files"
    # YARA names host:path; the truth names the file, so the same seed plants the same bytes.
    yara = {
        ("yara:vigil_demo:Demo_Webshell_PHP_Eval_Request", "d01-pc01", "D01/web/anh-dai-dien.php"),
        ("yara:vigil_demo:Demo_Ransom_Note_Text", "c01-pc01", "C01/DOC-KY-DE-KHOI-PHUC.txt"),
    }
    assert {(rule, f"{host}:{files}/{path}", path[:3]) for rule, host, path in yara} <= found
    found = {(r, Path(s).name if r.startswith("yara:") else s, u) for r, s, u in found}
    assert found == planted


def test_demo_is_deterministic(deployment: Deployment) -> None:
    ctx = DemoContext(deployment=deployment, seed=7, persons=0)
    build_demo(ctx)
    logs = deployment.settings.data / "demo" / "logs"
    first = {p.name: p.read_bytes() for p in logs.iterdir()}
    assert RULESET == "vigil-baseline" and len(first) == 7
    for path in logs.iterdir():
        path.unlink()
    build_demo(DemoContext(deployment=deployment, seed=7, persons=0))
    assert {p.name: p.read_bytes() for p in logs.iterdir()} == first
