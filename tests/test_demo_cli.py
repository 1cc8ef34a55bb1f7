"""`vigil demo` on the command line, and the summary it prints."""

from __future__ import annotations

import importlib
import types
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

import vigil.demo.cli as demo_cli
from tests.conftest import BEFORE
from vigil.cli import build_cli
from vigil.core.access import Role, system_actor
from vigil.core.finding import Finding
from vigil.core.severity import Severity
from vigil.demo.build import DemoResult
from vigil.demo.summary import score_truth, subject_keys, summarise
from vigil.deployment import Deployment
from vigil.plugins import GroundTruth
from vigil.store.findings import record_findings

runner = CliRunner()


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[tuple[DemoResult, str, int]]:
    calls: list[tuple[DemoResult, str, int]] = []
    monkeypatch.setattr(
        demo_cli, "_serve", lambda result, host, port: calls.append((result, host, port))
    )
    return calls


def test_demo_builds_runs_and_prints_the_summary(
    tmp_path: Path, served: list[tuple[DemoResult, str, int]]
) -> None:
    target = tmp_path / "vigil-data"
    # As the Makefile runs it with ARGS=--no-serve: the later flag wins.
    result = runner.invoke(
        build_cli(), ["demo", str(target), "--force", "--serve", "--persons", "2000", "--no-serve"]
    )
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())  # Rich wraps at the runner's 80 columns
    assert served == []
    for text in (
        "Demo built",
        "Persons",
        "Findings by capability and severity",
        "Alerts now",
        "Planted problems found by the detectors",
        "citizen-id-invalid",
        "household-without-head",
        "Demo accounts",
        "vigil-demo-2027",
        "c01.duty",
        "Tài khoản trình diễn",  # Vietnamese labels beside the English ones
        "VIGIL_COOKIE_SECURE=false vigil serve --data",
    ):
        assert text in out, text
    assert (target / "demo" / "ground_truth.json").is_file()
    assert (target / "lake" / "population_persons").is_dir()


def test_serve_after_build_with_the_demo_clock(
    tmp_path: Path, served: list[tuple[DemoResult, str, int]]
) -> None:
    result = runner.invoke(
        build_cli(),
        [
            "demo",
            "--no-serve",
            "--serve",
            "--no-run",
            "--persons",
            "500",
            "--port",
            "8123",
            str(tmp_path / "d"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert len(served) == 1
    built, host, port = served[0]
    assert (host, port) == ("127.0.0.1", 8123)
    assert built.settings.demo and not built.settings.cookie_secure
    assert (
        built.settings.clock is not None
        and built.settings.clock.isoformat() == "2027-03-05T09:00:00+07:00"
    )
    assert "Findings by capability and severity" not in result.output  # --no-run
    assert "citizen-id-invalid" in result.output  # what was planted is still listed


def test_serve_flags_parse_last_one_wins() -> None:
    command = typer.main.get_command(build_cli())
    assert isinstance(command, typer.core.TyperGroup)
    demo = command.commands["demo"]
    for args, expected in (
        (["--serve", "--no-serve", "d"], False),
        (["--no-serve", "--serve", "d"], True),
        (["d"], False),
        (["d", "--run", "--no-run"], None),
    ):
        ctx = demo.make_context("demo", list(args))
        if expected is None:
            assert ctx.params["run"] is False
        else:
            assert ctx.params["serve"] is expected
            assert ctx.params["run"] is True
        assert ctx.params["persons"] == 20000 and ctx.params["seed"] == 2027


def test_demo_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    target = tmp_path / "mine"
    target.mkdir()
    (target / "thesis.tex").write_text("keep me", encoding="utf-8")
    result = runner.invoke(build_cli(), ["demo", "--persons", "500", str(target)])
    assert result.exit_code == 1
    assert "not empty; pass --force" in " ".join(result.output.split())
    forced = runner.invoke(build_cli(), ["demo", "--persons", "500", "--force", str(target)])
    assert forced.exit_code == 1
    assert "does not look like a Vigil data directory" in " ".join(forced.output.split())
    assert [p.name for p in target.iterdir()] == ["thesis.tex"]


def test_demo_refuses_too_few_persons(tmp_path: Path) -> None:
    result = runner.invoke(build_cli(), ["demo", "--persons", "10", str(tmp_path / "d")])
    assert result.exit_code == 2
    assert not (tmp_path / "d").exists()


def test_serve_hands_the_demo_settings_to_the_web_app(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: dict[str, Any] = {}
    app = object()

    def create_app(settings: Any) -> object:
        seen["settings"] = settings
        return app

    monkeypatch.setattr(
        importlib,
        "import_module",
        lambda name: types.SimpleNamespace(create_app=create_app),
    )
    import uvicorn

    monkeypatch.setattr(
        uvicorn,
        "run",
        lambda a, host, port, log_level, proxy_headers: seen.update(
            app=a, host=host, port=port, proxy_headers=proxy_headers
        ),
    )
    from vigil.demo.build import demo_settings

    result = types.SimpleNamespace(settings=demo_settings(tmp_path))
    demo_cli._serve(result, "127.0.0.1", 8000)  # type: ignore[arg-type]
    assert seen["app"] is app and (seen["host"], seen["port"]) == ("127.0.0.1", 8000)
    assert seen["proxy_headers"] is False  # forwarded headers are trusted only from trusted_proxies
    assert seen["settings"].clock.isoformat() == "2027-03-05T09:00:00+07:00"


# --- summary ------------------------------------------------------------------------------------


def test_subject_keys_split_lists() -> None:
    assert subject_keys("NK1") == {"NK1"}
    assert subject_keys("NK1|NK2") == {"NK1|NK2", "NK1", "NK2"}
    assert subject_keys("NK1, NK2") == {"NK1, NK2", "NK1", "NK2"}


def test_score_truth_matches_capability_rule_and_subject() -> None:
    truth = [
        GroundTruth("registry", "duplicate-person", "NK2", "C01", ""),
        GroundTruth("registry", "duplicate-person", "NK7", "C01", ""),
        GroundTruth("registry", "citizen-id-invalid", "NK3", "C01", ""),
        GroundTruth("infowatch", "lookalike-domain", "baucu-binhson.com", "P46", ""),
    ]
    findings = [
        ("registry", "duplicate-person", "NK1|NK2"),
        ("registry", "deceased-listed", "NK3"),  # right subject, wrong rule
        ("monitor", "citizen-id-invalid", "NK3"),  # right rule, wrong capability
        ("infowatch", "lookalike-domain", "baucu-binhson.com"),
    ]
    scores = {s.capability: s for s in score_truth(truth, findings)}
    assert list(scores) == ["infowatch", "registry"]
    assert (scores["infowatch"].planted, scores["infowatch"].found) == (1, 1)
    registry = scores["registry"]
    assert (registry.planted, registry.found) == (3, 1)
    assert [t.subject for t in registry.missed] == ["NK7", "NK3"]
    assert registry.found_by_rule == {"duplicate-person": 1}
    assert registry.recall == pytest.approx(1 / 3)


def test_summarise_counts_findings_alerts_and_truth(deployment: Deployment) -> None:
    def finding(capability: str, rule: str, severity: Severity, unit: str, subject: str) -> Finding:
        return Finding(
            capability, rule, severity, unit, subject, f"{rule} on {subject}", observed_at=BEFORE
        )

    with deployment.store.session() as session:
        record_findings(
            session,
            [
                finding("registry", "citizen-id-invalid", Severity.MEDIUM, "C01", "NK1"),
                finding("registry", "duplicate-person", Severity.LOW, "C01", "NK3|NK2"),
                finding("monitor", "failed_logons", Severity.HIGH, "D01", "host-7"),
                finding("monitor", "sensor_silent", Severity.INFO, "C02", "sensor-2"),
            ],
        )
    truth = [
        GroundTruth("registry", "citizen-id-invalid", "NK1", "C01", ""),
        GroundTruth("registry", "duplicate-person", "NK2", "C01", ""),
        GroundTruth("registry", "deceased-listed", "NK9", "C01", ""),
    ]
    with deployment.store.reader() as session:
        summary = summarise(session, deployment.system(), deployment.policy(), truth)
        c01 = system_actor(frozenset({"C01", "C01-POL"}))
        scoped = summarise(session, c01, deployment.policy(), truth)
    assert summary.phase == "before" and summary.threshold == Severity.MEDIUM
    assert summary.findings == {
        "monitor": {Severity.HIGH: 1, Severity.INFO: 1},
        "registry": {Severity.MEDIUM: 1, Severity.LOW: 1},
    }
    assert summary.total_findings == 4
    assert summary.alerts == 2
    assert [(a.severity, a.subject) for a in summary.top_alerts] == [
        (Severity.HIGH, "host-7"),
        (Severity.MEDIUM, "NK1"),
    ]
    (registry,) = summary.truth
    assert (registry.planted, registry.found, [t.subject for t in registry.missed]) == (
        3,
        2,
        ["NK9"],
    )
    assert list(scoped.findings) == ["registry"] and scoped.alerts == 1
    assert c01.role == Role.ADMIN


def test_every_summary_label_has_a_vietnamese_translation() -> None:
    import re

    from babel.messages.pofile import read_po

    import vigil.demo

    folder = Path(vigil.demo.__file__).parent
    with (folder / "locales" / "vi.po").open("rb") as fh:
        catalog = {m.id: m.string for m in read_po(fh) if m.id}
    source = (folder / "cli.py").read_text(encoding="utf-8")
    labels = set(re.findall(r"both\(['\"]([^'\"]+)['\"]\)", source)) | set(
        demo_cli._STAGES.values()
    )
    labels |= {"Severity", "Capability", "Rule", "Unit", "Subject", "Planted", "Found", "Missed"}
    labels |= {"Username", "Role", "Name"}
    missing = sorted(label for label in labels if not catalog.get(label))
    assert missing == []
    assert demo_cli.both("Demo accounts") == "Tài khoản trình diễn / Demo accounts"
