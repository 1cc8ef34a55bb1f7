"""The demo's real attack traces: SigmaHQ samples replayed on demo hosts, planted malware files."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import SHARED_DATA, shared_data
from vigil.cli import build_cli
from vigil.clikit import open_deployment
from vigil.demo.build import read_ground_truth
from vigil.demo.summary import score_truth, subject_keys
from vigil.deployment import Deployment
from vigil.monitor.demo.replay import (
    REPLAY_RULESET,
    REPLAY_SAMPLES,
    SHARED_DATA_ENV,
    YARA_NAMESPACE,
    ReplaySample,
    pick_samples,
    read_samples,
    replay_sigma_samples,
    shared_data_dir,
)
from vigil.monitor.detect.sigma.ruleset import list_rules
from vigil.plugins import DemoContext, GroundTruth
from vigil.store.findings import list_findings

pytestmark = pytest.mark.filterwarnings("ignore:Arrow output on a DB-API result")


class BuiltDemo:
    def __init__(self, data: Path) -> None:
        self.data = data
        self.deployment: Deployment = open_deployment(data)
        self.truth: list[GroundTruth] = [
            t for t in read_ground_truth(data) if t.capability == "monitor"
        ]
        with self.deployment.store.reader() as session:
            rows = list_findings(session, capability="monitor")
            self.findings = {(f.capability, f.rule, f.subject, f.unit) for f in rows}
            self.replay_rules = {
                r.id for r in list_rules(session, self.deployment.system("test"), REPLAY_RULESET)
            }


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> BuiltDemo:
    target = tmp_path_factory.mktemp("demo") / "vigil-data"
    result = CliRunner().invoke(
        build_cli(), ["demo", str(target), "--persons", "300", "--seed", "2027", "--no-serve"]
    )
    assert result.exit_code == 0, result.output
    return BuiltDemo(target)


def test_every_planted_monitor_item_is_found(demo: BuiltDemo) -> None:
    # Matched as the demo summary matches: a planted subject is the finding's or one of its parts.
    found = {
        (cap, rule, key, unit)
        for cap, rule, subject, unit in demo.findings
        for key in subject_keys(subject)
    }
    missed = [t for t in demo.truth if (t.capability, t.rule, t.subject, t.unit) not in found]
    assert missed == []
    (score,) = score_truth(demo.truth, [(c, r, s) for c, r, s, _u in demo.findings])
    assert (score.planted, score.found, score.missed) == (len(demo.truth), len(demo.truth), [])


def test_yara_finds_the_two_planted_files_and_no_ordinary_one(demo: BuiltDemo) -> None:
    planted = {(t.rule, t.subject, t.unit) for t in demo.truth if t.rule.startswith("yara:")}
    assert planted == {
        (f"yara:{YARA_NAMESPACE}:Demo_Webshell_PHP_Eval_Request", "anh-dai-dien.php", "D01"),
        (f"yara:{YARA_NAMESPACE}:Demo_Ransom_Note_Text", "DOC-KY-DE-KHOI-PHUC.txt", "D02"),
    }
    # The scan names host:absolute path. The contact form, the backup script and the minutes
    # in the same shares match nothing.
    files = demo.data.resolve() / "demo" / "files"
    assert len(list(files.rglob("*.*"))) == 8
    yara = {(r, s, u) for _c, r, s, u in demo.findings if r.startswith("yara:")}
    assert yara == {
        (
            f"yara:{YARA_NAMESPACE}:Demo_Webshell_PHP_Eval_Request",
            f"d01-pc01:{files}/D01/web/anh-dai-dien.php",
            "D01",
        ),
        (
            f"yara:{YARA_NAMESPACE}:Demo_Ransom_Note_Text",
            f"d02-pc01:{files}/D02/DOC-KY-DE-KHOI-PHUC.txt",
            "D02",
        ),
    }


@pytest.mark.shared_data
def test_replayed_samples_fire_their_rules_on_their_hosts(demo: BuiltDemo) -> None:
    sigma = shared_data("sigma", "regression_data").parent
    replayed = [t for t in demo.truth if t.rule in demo.replay_rules]
    # Exactly the picked samples' rules were registered, one planted item each.
    picked = pick_samples(read_samples(sigma), seed=2027)
    assert len(replayed) == REPLAY_SAMPLES == len(picked)
    assert demo.replay_rules == {s.rule_id for s in picked}
    assert {(t.rule, t.subject) for t in replayed} == {(s.rule_id, s.host) for s in picked}
    for t in replayed:
        assert ("monitor", t.rule, t.subject, t.unit) in demo.findings
    # Each host has one unit: hosts go to the demo's departments in turn.
    units = {t.subject: t.unit for t in replayed}
    assert len(units) == len({s.host for s in picked})
    evtx = sorted(p.name for p in (demo.data / "demo" / "replay" / "evtx").iterdir())
    assert evtx == sorted(s.evtx.name for s in picked)


def _sample(host: str, n: int) -> ReplaySample:
    return ReplaySample(f"rule-{host}-{n}", "", Path(f"{host}-{n}.evtx"), Path("x.yml"), host)


def test_pick_samples_is_fixed_by_the_seed_and_spreads_over_hosts() -> None:
    samples = [_sample("lab", n) for n in range(10)] + [_sample("dc", n) for n in range(10)]
    samples += [_sample("hr", 0), _sample("edge", 0)]
    first = pick_samples(samples, seed=5)
    assert first == pick_samples(list(reversed(samples)), seed=5)
    assert len(first) == 8 and len(set(first)) == 8
    hosts = [s.host for s in first]
    # Round robin over four hosts: every host before any host's second sample.
    assert set(hosts[:4]) == {"lab", "dc", "hr", "edge"}
    assert sorted(hosts[4:]) == ["dc", "dc", "lab", "lab"]
    assert pick_samples(samples, seed=6) != first
    assert len(pick_samples(samples[:3], seed=5)) == 3


def test_shared_data_comes_from_the_environment_or_beside_the_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SHARED_DATA_ENV, str(tmp_path))
    assert shared_data_dir() == tmp_path
    monkeypatch.setenv(SHARED_DATA_ENV, str(tmp_path / "absent"))
    assert shared_data_dir() is None
    monkeypatch.delenv(SHARED_DATA_ENV)
    assert shared_data_dir() == (SHARED_DATA if SHARED_DATA.is_dir() else None)


def test_without_reference_data_the_replay_logs_one_line_and_plants_nothing(
    deployment: Deployment,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(SHARED_DATA_ENV, str(tmp_path / "absent"))
    ctx = DemoContext(deployment=deployment, seed=2027, persons=0)
    with caplog.at_level(logging.INFO, logger="vigil.monitor.demo.replay"):
        assert replay_sigma_samples(ctx, ["D01"]) == 0
    assert ctx.truth == []
    assert [r.getMessage() for r in caplog.records] == [
        f"demo replay skipped: no SigmaHQ reference data (set {SHARED_DATA_ENV} "
        "or add ../shared/data)"
    ]
    assert not (deployment.settings.data / "demo" / "replay").exists()
