"""Record linkage on Spark gives the pairs DuckDB gives, over 100,000 demo persons.

The model is trained once (on DuckDB, the default engine) and run on both engines: the
comparisons' SQL is written afresh in each engine's dialect (the custom levels declared in
DuckDB's SQL are translated by Splink), so any difference would be a dialect bug.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.demo.build import build_demo
from vigil.lake.datasets import Lake
from vigil.lake.engine import LakeEngine, open_engine
from vigil.registry.linkage.link import dedupe, train
from vigil.registry.linkage.sources import registry_persons

PERSONS = 100_000


@pytest.mark.spark
def test_spark_and_duckdb_propose_the_same_pairs_over_100k_persons(
    tmp_path: Path, spark_engine: LakeEngine
) -> None:
    built = build_demo(tmp_path / "demo", persons=PERSONS, seed=2027)
    duck = open_engine("duckdb")
    try:
        persons = registry_persons(Lake(built.data_dir / "lake", engine=duck))
        assert persons.num_rows > 0.99 * PERSONS  # the living of the 100,000 listed
        model = train(persons, duck)
        on_duckdb = dedupe(persons, model, duck)
    finally:
        duck.close()
    on_spark = dedupe(persons, model, spark_engine)

    assert len(on_duckdb) > 100  # the demo plants duplicates in every commune
    by_pair = {(p.left, p.right): p for p in on_duckdb}
    assert {(p.left, p.right) for p in on_spark} == set(by_pair)
    for pair in on_spark:
        same = by_pair[(pair.left, pair.right)]
        assert pair.probability == pytest.approx(same.probability, abs=1e-9)
        assert pair.explanation == pytest.approx(same.explanation, abs=1e-9)
