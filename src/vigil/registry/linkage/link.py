"""Train a linkage model without labels, and propose the pairs of records that name one person.

    from vigil.registry.linkage.link import dedupe, link, train
    from vigil.registry.linkage.sources import registry_persons

    persons = registry_persons(deployment.lake)
    model = train(persons)                       # EM, no labels
    for pair in dedupe(persons, model):          # LinkedPair(left, right, probability, ...)
        ...
    pairs = link(persons, other_records, model)  # two sources: left from persons

Each pair's `explanation` is the match weight (log2 of the Bayes factor) each comparison gave
it, with the prior under "prior": their sum is the pair's match weight. The model runs on the
lake engine given (DuckDB by default; Spark through the lake's Spark engine).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import count
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

from vigil.core.errors import ValidationError
from vigil.lake.engine import ENGINES, LakeEngine, open_engine
from vigil.registry.linkage import model as spec
from vigil.registry.linkage.records import RECORD_COLUMNS

#: Pairs at or above this probability are proposed.
DEFAULT_THRESHOLD = 0.9
_views = count()
_LEFT, _RIGHT = "L:", "R:"
_log = logging.getLogger(__name__)

# Splink warns, level by level, of every comparison level a registry never showed it (one
# screenful per training on a small registry); what matters is said by this module's own log.
for _name in ("splink", "splink.internals"):
    logging.getLogger(_name).setLevel(logging.ERROR)


@dataclass(frozen=True)
class LinkedPair:
    """Two records proposed as one person: `left` and `right` are their ids."""

    left: str
    right: str
    probability: float
    #: Each comparison's match weight, and the prior's.
    explanation: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "left": self.left,
            "right": self.right,
            "probability": round(self.probability, 6),
            "explanation": {k: round(v, 3) for k, v in self.explanation.items()},
        }


@dataclass(frozen=True)
class LinkageModel:
    """A trained model: Splink's settings with its m and u probabilities and prior, and the
    blocking rules (columns of each) its predictions use."""

    settings: dict[str, Any]
    blocking: tuple[tuple[str, ...], ...] = spec.BLOCKING


def _check(records: pa.Table) -> None:
    missing = [c for c in RECORD_COLUMNS if c not in records.column_names]
    if missing:
        raise ValidationError(
            "not linkage records (see vigil.registry.linkage.records.linkage_records); "
            f"missing {', '.join(missing)}"
        )


@contextmanager
def _engine(engine: LakeEngine | None) -> Iterator[LakeEngine]:
    if engine is not None:
        yield engine
        return
    own = open_engine(ENGINES[0])  # the default engine
    try:
        yield own
    finally:
        own.close()


def _view(engine: LakeEngine, records: pa.Table, side: str = "") -> str:
    """Register `records` with the engine; `side` prefixes their ids (two sources may share
    an id, and a pair must say which side each record comes from)."""
    _check(records)
    name = f"linkage_records_{next(_views)}"
    table = records.select(list(RECORD_COLUMNS))
    if side:
        ids = pc.binary_join_element_wise(side, table.column("unique_id"), "")
        table = table.set_column(0, "unique_id", ids)
    engine.register_arrow(name, table)
    return name


def train(records: pa.Table, engine: LakeEngine | None = None, *, seed: int = 1) -> LinkageModel:
    """Estimate the model from `records` alone: prior from near-certain rules, u from random
    pairs, m by expectation maximisation over two blockings (each learns what it does not fix).

    A small registry may hold no pair that an EM pass blocks on (no two records sharing a
    citizen ID): that pass is skipped, and the m probabilities it would have learnt keep
    Splink's defaults, so a commune-sized registry still links (with a weaker model, logged).
    """
    from splink import Linker, block_on
    from splink.internals.exceptions import EMTrainingException

    if records.num_rows < 2:
        raise ValidationError("linkage needs at least two records to train on")
    with _engine(engine) as eng:
        view = _view(eng, records)
        linker = Linker(view, spec.settings(), db_api=eng.linkage_api())
        rules: list[Any] = [block_on(*cols) for cols in spec.DETERMINISTIC]
        linker.training.estimate_probability_two_random_records_match(
            rules, recall=spec.DETERMINISTIC_RECALL
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=seed)
        for cols in spec.EM_PASSES:
            try:
                linker.training.estimate_parameters_using_expectation_maximisation(
                    block_on(*cols), fix_u_probabilities=True
                )
            except EMTrainingException:
                _log.warning(
                    "linkage: no pairs of the %d records share %s; that EM pass is skipped",
                    records.num_rows,
                    " and ".join(cols),
                )
        blocking = spec.BLOCKING + _affordable(eng, view, records.num_rows)
        return LinkageModel(linker.misc.save_model_to_json(), blocking)


def _affordable(eng: LakeEngine, view: str, rows: int) -> tuple[tuple[str, ...], ...]:
    """The broad blocking rules that give these records at most `spec.BROAD_BUDGET` pairs."""
    from splink import block_on
    from splink.blocking_analysis import count_comparisons_from_blocking_rule

    kept = []
    for cols in spec.BROAD:
        counted = count_comparisons_from_blocking_rule(
            table_or_tables=[view],
            blocking_rule=block_on(*cols),
            link_type="dedupe_only",
            db_api=eng.linkage_api(),
            compute_post_filter_count=False,
        )
        # Ordered pairs, each record with itself included: twice the pairs to score, and more.
        pairs = int(counted["number_of_comparisons_generated_pre_filter_conditions"]) // 2
        if pairs <= spec.BROAD_BUDGET:
            kept.append(cols)
    _log.info("linkage: %d records; broad blocking rules kept: %s", rows, kept)
    return tuple(kept)


_TRAINED = ("m_probability", "u_probability", "tf_adjustment_weight", "tf_minimum_u_value")


def _for_engine(
    model: LinkageModel, link_type: Literal["dedupe_only", "link_only"], sql_dialect: str
) -> dict[str, Any]:
    """The trained model written in `sql_dialect`: the comparisons' SQL made afresh for that
    engine (a model trained on DuckDB keeps DuckDB's SQL), the trained numbers copied over."""
    fresh = spec.settings(link_type, model.blocking).create_settings_dict(sql_dialect)
    trained = model.settings
    learnt = {
        (c["output_column_name"], level["label_for_charts"]): level
        for c in trained["comparisons"]
        for level in c["comparison_levels"]
    }
    for new in fresh["comparisons"]:
        for new_level in new["comparison_levels"]:
            # A level a small registry never saw is not in the saved model: it keeps defaults.
            old_level = learnt.get((new["output_column_name"], new_level["label_for_charts"]), {})
            for key in _TRAINED:
                if key in old_level:
                    new_level[key] = old_level[key]
    for key in ("probability_two_random_records_match",):
        fresh[key] = trained[key]
    return fresh


def _pairs(
    eng: LakeEngine, physical: str, comparisons: list[str], prior: float, two_sources: bool
) -> list[LinkedPair]:
    """The predictions as pairs; of two sources, each pair turned so its left is the left's."""
    weights = ", ".join(
        f'"bf_{c}" AS "{c}"' + (f', "bf_tf_adj_{c}" AS "tf_{c}"' if c == "family" else "")
        for c in comparisons
    )
    sql = (
        f'SELECT "unique_id_l", "unique_id_r", "match_probability", {weights} '
        f'FROM {physical} ORDER BY "match_probability" DESC, "unique_id_l", "unique_id_r"'
    )
    pairs = []
    for row in eng.query(sql).to_pylist():
        explanation = {"prior": prior}
        for c in comparisons:
            factor = float(row[c]) * float(row.get(f"tf_{c}") or 1.0)
            explanation[c] = math.log2(factor) if factor > 0 else -math.inf
        left, right = str(row["unique_id_l"]), str(row["unique_id_r"])
        if not two_sources:
            left, right = min(left, right), max(left, right)
        else:
            if left.startswith(_RIGHT):
                left, right = right, left
            left, right = left.removeprefix(_LEFT), right.removeprefix(_RIGHT)
        pairs.append(LinkedPair(left, right, float(row["match_probability"]), explanation))
    return pairs


def _predict(
    eng: LakeEngine,
    inputs: str | list[str],
    settings: dict[str, Any],
    threshold: float,
    two_sources: bool = False,
) -> list[LinkedPair]:
    from splink import Linker

    lam = float(settings["probability_two_random_records_match"])
    if lam <= 0.0:
        # The near-certain rules found no pair at all: the data holds no duplicate to learn
        # from, and a prior of zero gives every pair a probability of zero.
        _log.warning("linkage: the model's prior is zero (no near-certain pair); no pair proposed")
        return []
    linker = Linker(inputs, settings, db_api=eng.linkage_api())
    predictions = linker.inference.predict(threshold_match_probability=threshold)
    comparisons = [c["output_column_name"] for c in settings["comparisons"]]
    prior = math.log2(lam / (1 - lam))
    try:
        return _pairs(eng, predictions.physical_name, comparisons, prior, two_sources)
    finally:
        predictions.drop_table_from_database_and_remove_from_cache()


def dedupe(
    records: pa.Table,
    model: LinkageModel | None = None,
    engine: LakeEngine | None = None,
    *,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[LinkedPair]:
    """Pairs of `records` that name one person (left id < right id), most probable first."""
    with _engine(engine) as eng:
        trained = model or train(records, eng)
        settings = _for_engine(
            trained, "dedupe_only", eng.linkage_api().sql_dialect.sql_dialect_str
        )
        return _predict(eng, _view(eng, records), settings, threshold)


def link(
    left: pa.Table,
    right: pa.Table,
    model: LinkageModel | None = None,
    engine: LakeEngine | None = None,
    *,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[LinkedPair]:
    """Pairs of a record of `left` and one of `right` that name one person; `left` of each
    pair is the id in `left`. Without a model, one is trained on `left` (the larger source,
    usually the registry) and applied across."""
    with _engine(engine) as eng:
        trained = model or train(left, eng)
        settings = _for_engine(trained, "link_only", eng.linkage_api().sql_dialect.sql_dialect_str)
        views = [_view(eng, left, _LEFT), _view(eng, right, _RIGHT)]
        return _predict(eng, views, settings, threshold, two_sources=True)
