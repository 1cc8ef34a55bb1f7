"""The demo's candidate list: every planted mismatch found by the check, nothing on the clean
candidates, and the declarations with a wrong or missing ID placed by the registry's linkage."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from vigil.candidates.check import RULES
from vigil.candidates.detect import check_all, findings_of
from vigil.demo.build import build_demo
from vigil.deployment import Deployment


def test_demo_candidates_planted_found_and_no_false_positive(tmp_path: Path) -> None:
    result = build_demo(tmp_path / "demo", persons=5_000, force=True)
    assert not result.failed
    planted = {(t.rule, t.subject) for t in result.truth if t.capability == "candidates"}
    assert {rule for rule, _s in planted} == set(RULES) - {"candidate-deceased"}
    with Deployment.open(result.settings) as dep:
        checks = check_all(dep)
        found = [(f.rule, f.subject) for c in checks for f in findings_of(c, dep.now())]
    assert len(checks) == 251  # 5,000 / 20, and one under-age
    assert set(found) == planted  # every planted mismatch, nothing else
    assert len(found) == len(planted)  # one finding each
    methods = Counter(c.method for c in checks)
    id_plants = sum(1 for rule, _s in planted if rule == "declared-citizen-id-mismatch")
    assert methods["linkage"] == id_plants
    assert methods[None] == sum(1 for rule, _s in planted if rule == "candidate-not-found")
