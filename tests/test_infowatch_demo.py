"""The information watch's demo: every planted scam, lookalike, impersonation, false claim,
campaign and spike is found by the detectors, and nothing else is (0 ordinary posts flagged);
the fact sheet, campaigns and watchlist commands on it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vigil.cli import build_cli
from vigil.core.config import write_secret
from vigil.demo.build import demo_settings
from vigil.demo.province import write_clock, write_province
from vigil.deployment import Deployment
from vigil.detection import run_detectors
from vigil.infowatch.demo.build import build_demo
from vigil.plugins import DemoContext
from vigil.store.models import FindingRow
from vigil.store.units import sync_units

runner = CliRunner()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Deployment, DemoContext]]:
    data = tmp_path_factory.mktemp("iw") / "data"
    data.mkdir()
    write_province(data)
    write_secret(data)
    write_clock(data)
    dep = Deployment.open(demo_settings(data))
    with dep.store.session() as session:
        sync_units(session, dep.units)
    ctx = DemoContext(deployment=dep, seed=2027, persons=0)
    build_demo(ctx)
    runs = run_detectors(dep, {"infowatch"})
    assert runs[0].error is None
    yield dep, ctx
    dep.close()


def test_planted_against_found(demo: tuple[Deployment, DemoContext]) -> None:
    dep, ctx = demo
    planted = {(t.rule, t.subject) for t in ctx.truth}
    with dep.store.reader() as session:
        found = {(f.rule, f.subject) for f in session.query(FindingRow)}
    assert found == planted
    rules = sorted({rule for rule, _ in planted})
    assert rules == [
        "coordinated-campaign",
        "false-claim",
        "impersonation",
        "lookalike-domain",
        "narrative-spike",
        "scam",
    ]
    assert sum(rule == "coordinated-campaign" for rule, _ in planted) == 2


def test_campaigns_and_facts_commands(demo: tuple[Deployment, DemoContext], tmp_path: Path) -> None:
    dep, _ctx = demo
    data = str(dep.settings.data)
    out = runner.invoke(build_cli(), ["infowatch", "campaigns", "--json", "--data", data])
    assert out.exit_code == 0, out.output
    campaigns = [json.loads(line) for line in out.output.splitlines()]
    assert [sorted(c["accounts"]) for c in campaigns] == [
        [f"new{i:02d}" for i in range(8)],
        [f"voice{i:02d}" for i in range(7)],
    ]
    assert [len(c["posts"]) for c in campaigns] == [8, 14]
    queries = tmp_path / "q.jsonl"
    queries.write_text(
        '{"id": "q1", "text": "co phai phai nop tien moi duoc nhan phieu bau khong?"}\n'
        '{"id": "q2", "text": "is it true we can vote online this year?"}\n',
        encoding="utf-8",
    )
    out = runner.invoke(
        build_cli(),
        ["infowatch", "facts", "match", str(queries), "--top", "2", "--json", "--data", data],
    )
    assert out.exit_code == 0, out.output
    answers = [json.loads(line) for line in out.output.splitlines()]
    assert [a["id"] for a in answers] == ["q1", "q2"]
    assert [a["matches"][0]["fact_id"] for a in answers] == ["no_fees", "in_person"]
    assert all(
        len(a["matches"]) == 2 and set(a["matches"][0]) == {"fact_id", "score"} for a in answers
    )


def test_facts_import_reports_bad_lines(
    demo: tuple[Deployment, DemoContext], tmp_path: Path
) -> None:
    dep, _ctx = demo
    sheet = tmp_path / "facts.jsonl"
    sheet.write_text(
        '{"id": "extra", "text": "Ket qua do Uy ban bau cu cong bo", '
        '"claims": ["Ket qua da co tu truoc"], "lang": "vi"}\n'
        '{"id": "bad", "claims": []}\n'
        "not json\n",
        encoding="utf-8",
    )
    out = runner.invoke(
        build_cli(), ["infowatch", "facts", "import", str(sheet), "--data", str(dep.settings.data)]
    )
    assert out.exit_code == 0, out.output
    assert "1 facts added, 0 replaced, 2 bad lines" in out.output
    assert f"{sheet}:2: error: text: missing" in out.output.replace("\n", "")
