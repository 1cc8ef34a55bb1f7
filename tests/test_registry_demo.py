"""On the demo province the registry's detectors find every planted problem and nothing else."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from vigil.demo.build import build_demo, read_ground_truth
from vigil.demo.summary import score_truth
from vigil.deployment import Deployment
from vigil.detection import run_detectors
from vigil.store.models import FindingRow


def test_every_planted_registry_problem_is_found_and_nothing_else(tmp_path: Path) -> None:
    built = build_demo(tmp_path / "d", persons=4000, seed=3)
    with Deployment.open(built.settings) as dep:
        [run] = run_detectors(dep, {"registry"})
        assert run.error is None
        with dep.store.reader() as session:
            rows = session.query(FindingRow).filter(FindingRow.capability == "registry").all()
    truth = [t for t in read_ground_truth(built.data_dir) if t.capability == "registry"]
    [score] = score_truth(truth, [(r.capability, r.rule, r.subject) for r in rows])
    assert score.missed == [] and score.found == len(truth) > 40
    assert len(rows) == len(truth)  # no finding on a clean record
    planted = Counter(t.rule for t in truth)
    assert (planted["voter-move-burst"], planted["voter-removal-burst"]) == (5, 2)
    dup = next(r for r in rows if r.rule == "duplicate-person")
    assert " ~ " in dup.subject and dup.evidence["probability"] >= 0.9
