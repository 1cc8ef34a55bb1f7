"""The same SQL over the same Parquet files gives the same rows on DuckDB and on Spark.

Each test is written once and runs on every lake engine (the `lake_engine` fixture); the rows it
expects are the same for both. The SQL that differs comes from the engine's dialect.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from textwrap import dedent
from typing import Any

import pyarrow as pa
import pytest

from tests.conftest import compiled, shared_data
from vigil.core.errors import DependencyMissing, LakeError
from vigil.lake.datasets import Lake
from vigil.lake.engine import LakeEngine
from vigil.lake.spark_engine import INLINE_ROWS, SparkEngine, find_java
from vigil.monitor.detect.sigma.pipeline import LINUX_SYSMON
from vigil.monitor.detect.sigma.rules import convert_rules, load_rules
from vigil.monitor.detect.sigma.runner import (
    CompiledRule,
    RuleRunner,
    combine_batches,
    with_full_text,
)
from vigil.monitor.ingest.events import EventTableBuilder
from vigil.monitor.ingest.sources.base import RawRecord

UNITS = pa.table(
    {
        "code": ["C01", "C02", "C03"],
        "name_vi": ["Xã Hòa An", "Xã Phú Lộc", "Phường Đông Ba"],
    }
)
NOTE_6 = "ghi chú: 'đã xác minh' \\ C:\\hồ sơ"
#: Two batches of one dataset; the second has a column the first lacks.
PERSONS_1 = pa.table(
    {
        "id": pa.array([1, 2, 3, 4], pa.int64()),
        "name": ["Nguyễn Văn An", "Trần Thị Bích", "NGUYỄN THỊ ĐÀO", None],
        "commune": ["C01", "C01", "C02", "C02"],
        "born": pa.array(
            [
                datetime(1980, 5, 17, 8, 30),
                datetime(1992, 11, 2, 23, 59, 59, 900000),
                None,
                datetime(2001, 1, 1),
            ],
            pa.timestamp("us"),
        ),
        "tags": pa.array([["cử tri", "chủ hộ"], ["cử tri"], [], None], pa.list_(pa.string())),
    }
)
PERSONS_2 = pa.table(
    {
        "id": pa.array([5, 6, 7], pa.int64()),
        "name": ["Lê Hòa", "Phạm Đức HÒA", "Võ Thị Ánh"],
        "commune": ["C01", "C02", None],
        "born": pa.array(
            [
                datetime(1975, 3, 14, 6, 15, 0, 250000),
                datetime(1999, 12, 31, 23, 59, 59),
                datetime(1968, 7, 1),
            ],
            pa.timestamp("us"),
        ),
        "tags": pa.array([["tạm trú"], ["cử tri", "tạm trú"], ["chủ hộ"]], pa.list_(pa.string())),
        "note": ["chuyển đến từ Huế", NOTE_6, None],
    }
)
BORN = {
    int(i): b
    for t in (PERSONS_1, PERSONS_2)
    for i, b in zip(t["id"].to_pylist(), t["born"].to_pylist(), strict=True)
}


@pytest.fixture(scope="module")
def lake_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Parquet files every engine reads: written once, by the lake itself."""
    root = tmp_path_factory.mktemp("lake")
    writer = Lake(root)
    writer.write("units", UNITS, "b1")
    writer.write("persons", PERSONS_1, "b1")
    writer.write("persons", PERSONS_2, "b2")
    return root


@pytest.fixture
def lake(lake_root: Path, lake_engine: LakeEngine) -> Iterator[Lake]:
    opened = Lake(lake_root, lake_engine)
    yield opened
    opened.close()


def rows(lake: Lake, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    return [tuple(r.values()) for r in lake.query(sql, params).to_pylist()]


def ids(lake: Lake, where: str) -> list[int]:
    return sorted(r[0] for r in rows(lake, f"SELECT id FROM persons WHERE {where}"))


def test_filters_take_named_parameters(lake: Lake) -> None:
    sql = "SELECT id FROM persons WHERE commune = $commune AND born >= $since ORDER BY id"
    assert rows(lake, sql, {"commune": "C01", "since": datetime(1985, 1, 1)}) == [(2,)]
    # A value with quotes and backslashes goes in as it is; "$name" inside a literal stays text.
    sql = "SELECT id FROM persons WHERE note = $note OR name = $name OR name = '$name'"
    assert rows(lake, sql, {"note": NOTE_6, "name": "Lê Hòa"}) == [(5,), (6,)]
    assert rows(lake, "SELECT born FROM persons WHERE id = $id", {"id": 2}) == [(BORN[2],)]


def test_group_by_counts_across_batches_of_different_columns(lake: Lake) -> None:
    sql = (
        "SELECT commune, count(*) AS people, count(name) AS named, count(note) AS noted "
        "FROM persons GROUP BY commune ORDER BY commune NULLS LAST"
    )
    assert rows(lake, sql) == [("C01", 3, 3, 1), ("C02", 3, 2, 1), (None, 1, 1, 0)]


def test_joins_of_two_datasets(lake: Lake) -> None:
    sql = (
        "SELECT p.id, u.name_vi FROM persons p JOIN units u ON p.commune = u.code "
        "WHERE p.name IS NOT NULL ORDER BY p.id"
    )
    assert rows(lake, sql) == [
        (1, "Xã Hòa An"),
        (2, "Xã Hòa An"),
        (3, "Xã Phú Lộc"),
        (5, "Xã Hòa An"),
        (6, "Xã Phú Lộc"),
    ]
    sql = "SELECT u.code FROM units u LEFT JOIN persons p ON p.commune = u.code WHERE p.id IS NULL"
    assert rows(lake, sql) == [("C03",)]


def test_arrays_become_rows(lake: Lake) -> None:
    d = lake.dialect
    found = rows(lake, f"SELECT id, {d.rows_of('tags')} AS tag FROM persons")
    assert sorted(found) == [
        (1, "chủ hộ"),
        (1, "cử tri"),
        (2, "cử tri"),
        (5, "tạm trú"),
        (6, "cử tri"),
        (6, "tạm trú"),
        (7, "chủ hộ"),
    ]
    literal = d.array_of(["3", "NULL", "1"])
    assert rows(lake, f"SELECT {d.rows_of(literal)} AS x") == [(3,), (None,), (1,)]


def test_regular_expressions_and_case(lake: Lake) -> None:
    d = lake.dialect
    assert ids(lake, d.matches("name", d.literal("^Nguyễn"))) == [1]
    assert ids(lake, d.matches("name", d.literal("^Nguyễn"), ignore_case=True)) == [1, 3]
    assert ids(lake, d.matches("name", d.literal(r"^\S+\s+Thị\s"), ignore_case=True)) == [2, 3, 7]
    assert ids(lake, d.like_ignoring_case("name", d.literal("%hòa"))) == [5, 6]
    assert ids(lake, "lower(name) = 'nguyễn thị đào'") == [3]
    assert ids(lake, d.begins("name", d.literal("Trần"))) == [2]
    assert ids(lake, d.ends("name", d.literal("Ánh"))) == [7]
    assert ids(lake, d.holds("note", d.literal("'đã xác minh' \\ C:\\hồ"))) == [6]
    assert ids(lake, d.holds(d.as_text("id"), d.literal("7"))) == [7]


def test_dates_truncate_and_subtract_alike(lake: Lake) -> None:
    d = lake.dialect
    at = datetime(2026, 3, 15)
    sql = (
        f"SELECT id, {d.truncate('month', 'born')} AS month, {d.truncate('day', 'born')} AS day, "
        f"{d.seconds('born', '$at')} AS secs, {d.seconds('$at', 'born')} AS back "
        "FROM persons WHERE born IS NOT NULL ORDER BY id"
    )
    expected = [
        (
            i,
            b.replace(day=1, hour=0, minute=0, second=0, microsecond=0),
            b.replace(hour=0, minute=0, second=0, microsecond=0),
            int((at - b) / timedelta(seconds=1)),  # whole seconds, toward zero
            -int((at - b) / timedelta(seconds=1)),
        )
        for i, b in sorted(BORN.items())
        if b is not None
    ]
    assert rows(lake, sql, {"at": at}) == expected
    week = d.truncate("week", d.timestamp(d.literal("2026-03-14 10:00:00")))
    bad = d.timestamp(d.literal("không phải ngày"))
    assert rows(lake, f"SELECT {week} AS w, {bad} AS b") == [(datetime(2026, 3, 9), None)]


def test_parquet_files_scanned_by_glob(lake: Lake, lake_root: Path) -> None:
    scan = lake.dialect.scan_parquet(str(lake_root / "persons" / "*.parquet"))
    sql = f"SELECT count(*) AS n, count(note) AS noted, max(born) AS last FROM {scan}"
    assert rows(lake, sql) == [(7, 2, datetime(2001, 1, 1))]


def test_a_copy_of_an_arrow_table_is_replaced(lake_engine: LakeEngine) -> None:
    d = lake_engine.dialect
    source = "copy_of_view" if d.materialize else "view_of_arrow"
    for names in (["Hòa", None], ["Lộc"]):
        lake_engine.register_arrow(
            "view_of_arrow", pa.table({"name": pa.array(names, pa.string())})
        )
        for statement in d.materialize_as("copy_of_view", "view_of_arrow"):
            lake_engine.query(statement)
        found = lake_engine.query(f"SELECT name FROM {source}").column("name").to_pylist()
        assert sorted(found, key=str) == sorted(names, key=str)


def test_a_large_arrow_table_registers_whole_and_is_replaced(lake_engine: LakeEngine) -> None:
    """Above INLINE_ROWS Spark takes the table through a staged Parquet file: every row and
    value arrives, and registering the view again replaces it."""
    n = INLINE_ROWS + 7
    for offset in (0, 1000):
        ids = pa.array(range(offset, offset + n), pa.int64())
        names = pa.array([f"Nguyễn {i}" if i % 3 else None for i in range(n)], pa.string())
        lake_engine.register_arrow("big_arrow", pa.table({"id": ids, "name": names}))
        row = lake_engine.query(
            "SELECT COUNT(*) AS n, SUM(id) AS total, COUNT(name) AS named FROM big_arrow"
        ).to_pylist()[0]
        assert (row["n"], row["total"]) == (n, sum(range(offset, offset + n)))
        assert row["named"] == sum(1 for i in range(n) if i % 3)


def test_a_failing_query_is_a_lake_error(lake: Lake) -> None:
    with pytest.raises(LakeError, match="no_such_function"):
        lake.query("SELECT no_such_function(id) FROM persons")


# --- the Sigma runner's group query ---------------------------------------------------------

EVENTS = [
    {
        "Image": "/usr/bin/curl",
        "CommandLine": "sh -c /usr/bin/curl http://x/a -o /tmp/a",
        "User": "root",
    },
    {"Image": "/bin/dd", "CommandLine": "dd if=/dev/zero of=/dev/sda bs=1M", "User": "root"},
    {"Image": "/usr/bin/env", "CommandLine": "env HTTPS_PROXY=http://p:3128 wget x", "User": "an"},
    {"Image": "/bin/sh", "CommandLine": "chown root f; chmod u+s f", "User": "Quản Trị Viên"},
    {"Image": "/usr/bin/find", "CommandLine": "find / -perm -4000 -type f", "User": None},
    {"Image": "/usr/bin/ls", "CommandLine": "ls -la 'C:\\Temp\\it''s'", "User": "quản trị"},
]
#: Files created (Sysmon event 11): another log source, so another group of rules.
FILE_EVENTS = [
    {"Image": "/bin/sh", "TargetFilename": "/tmp/rootlog", "User": "root"},
    {"Image": "/bin/sh", "TargetFilename": "/tmp/nhật ký.txt", "User": "quản trị viên"},
]


def events_from_parquet(tmp_path: Path) -> pa.Table:
    """Linux process creations (rows 0-5) and file creations (rows 6-7) written to the lake
    and read back, as the runner takes them."""
    builder = EventTableBuilder("evtx", lambda host: "P01")
    t0 = datetime(2026, 3, 14, 1, 0, 0)
    coded = [(1, f) for f in EVENTS] + [(11, f) for f in FILE_EVENTS]
    for i, (code, fields) in enumerate(coded):
        builder.add(
            RawRecord(
                ts=t0 + timedelta(seconds=i),
                host="srv1",
                fields=dict(fields),
                channel=LINUX_SYSMON,
                event_code=code,
                key=str(i),
            )
        )
    lake = Lake(tmp_path / "lake")
    lake.write("monitor_events", builder.table(), "b1")
    return with_full_text(combine_batches([lake.read("monitor_events")]))


def run_rules(engine: LakeEngine, events: pa.Table, rules: list[CompiledRule]) -> list[Any]:
    hits, stats = RuleRunner(engine).run(events, rules)
    assert stats.errors == {}
    return sorted((h.rule_id, h.row) for h in hits)


#: Real rules of two log sources whose SQL uses only what both engines read alike: the
#: backend writes DuckDB's functions (ends_with, regexp_matches...) and its string literals,
#: which most rules need and Spark does not read (docs/lake.md counts them).
SHARED_RULES = (
    "process_creation/proc_creation_lnx_curl_wget_exec_tmp.yml",  # a2d9e2f3
    "process_creation/proc_creation_lnx_dd_file_overwrite.yml",  # 2953194b
    "process_creation/proc_creation_lnx_proxy_connection.yml",  # 72f4ab3f
    "process_creation/proc_creation_lnx_setgid_setuid.yml",  # c21c4eaa
    "process_creation/proc_creation_lnx_susp_recon_indicators.yml",  # 0cf7a157
    "file_event/file_event_lnx_triple_cross_rootkit_lock_file.yml",  # c0239255
)


def test_runner_matches_real_rules_alike(lake_engine: LakeEngine, tmp_path: Path) -> None:
    folder = shared_data("sigma", "rules", "linux")
    picked = tmp_path / "rules"
    picked.mkdir()
    for name in SHARED_RULES:
        (picked / Path(name).name).write_bytes((folder / name).read_bytes())
    files, issues = load_rules(picked)
    assert issues == []
    rules = [compiled(c) for c in convert_rules(files)]
    assert len(rules) == len(SHARED_RULES)
    assert run_rules(lake_engine, events_from_parquet(tmp_path), rules) == [
        ("0cf7a157-8879-41a2-8f55-388dd23746b7", 4),
        ("2953194b-e33c-4859-b9e8-05948c167447", 1),
        ("72f4ab3f-787d-495d-a55d-68c2ff46cf4c", 2),
        ("a2d9e2f3-0f43-4c7a-bcd9-9acfc0d723aa", 0),
        ("c0239255-822c-4630-b7f1-35362bcb8f44", 6),
        ("c21c4eaa-ba2e-419a-92b2-8371703cbe21", 3),
    ]


def test_runner_matches_a_rule_converted_here_alike(
    lake_engine: LakeEngine, tmp_path: Path
) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "shell.yml").write_text(
        dedent(
            """\
            title: Root or an administrator runs a shell command
            id: 5f0a3b1c-0000-4000-8000-00000000000a
            status: test
            level: high
            logsource:
                product: linux
                category: process_creation
            detection:
                who:
                    User:
                        - root
                        - quản trị viên
                shell:
                    Image|contains: '/bin/'
                quiet:
                    CommandLine|contains: 'dd '
                condition: who and shell and not quiet
            """
        ),
        encoding="utf-8",
    )
    (tmp_path / "rules" / "file.yml").write_text(
        dedent(
            """\
            title: A log file named in Vietnamese
            id: 5f0a3b1c-0000-4000-8000-00000000000b
            status: test
            level: low
            logsource:
                product: linux
                category: file_event
            detection:
                selection:
                    TargetFilename|contains: 'NHẬT KÝ'
                condition: selection
            """
        ),
        encoding="utf-8",
    )
    files, issues = load_rules(tmp_path / "rules")
    assert issues == []
    rules = [compiled(c) for c in convert_rules(files)]
    assert sorted(r.group_key for r in rules) == ["linux/file_event", "linux/process_creation"]
    shell, named = "5f0a3b1c-0000-4000-8000-00000000000a", "5f0a3b1c-0000-4000-8000-00000000000b"
    assert run_rules(lake_engine, events_from_parquet(tmp_path), rules) == [
        (shell, 0),
        (shell, 3),
        (named, 7),
    ]


def test_runner_group_query_over_dialect_predicates(
    lake_engine: LakeEngine, tmp_path: Path
) -> None:
    """What the backend writes the DuckDB way (ends_with, regexp_matches, backslashes), written
    through the dialect: the runner's query shape holds on both engines."""
    d = lake_engine.dialect
    image, command, user = d.quote("Image"), d.quote("CommandLine"), d.quote("User#lower")
    predicates = {
        "ends": d.ends(image, d.literal("/dd")),
        "regex": d.matches(command, d.literal(r"of=\S+\s")),
        "regex-i": d.matches(command, d.literal("https?_proxy="), ignore_case=True),
        "begins": d.begins(command, d.literal("chown ")),
        "ilike": d.like_ignoring_case(d.quote("User"), d.literal("quản trị%")),
        "backslash": d.holds(command, d.literal("'C:\\Temp\\it''s'")),
        "folded": f"{user} = {d.literal('quản trị viên')}",
    }
    rules = [
        CompiledRule(
            name,
            "rule",
            "linux/process_creation",
            sql,
            ("Image", "CommandLine", "User", "User#lower"),
            True,
        )
        for name, sql in predicates.items()
    ]
    assert run_rules(lake_engine, events_from_parquet(tmp_path), rules) == [
        ("backslash", 5),
        ("begins", 3),
        ("ends", 1),
        ("folded", 3),
        ("ilike", 3),
        ("ilike", 5),
        ("regex", 1),
        ("regex-i", 2),
    ]


# --- Spark's own -----------------------------------------------------------------------------


@pytest.mark.spark
def test_spark_error_names_the_query(spark_engine: LakeEngine) -> None:
    with pytest.raises(LakeError) as caught:
        spark_engine.query("SELECT no_such_function($x) AS y", {"x": 1})
    message = str(caught.value)
    assert message.startswith("spark query failed: [UNRESOLVED_ROUTINE]")
    assert message.endswith("in: SELECT no_such_function(:x) AS y")


@pytest.mark.spark
def test_a_second_spark_engine_shares_spark_but_not_views(spark_engine: LakeEngine) -> None:
    second = SparkEngine()
    try:
        spark_engine.register_arrow("whose", pa.table({"who": ["first"]}))
        second.register_arrow("whose", pa.table({"who": ["second"]}))
        assert spark_engine.query_rows("SELECT who FROM whose") == [("first",)]
        assert second.query_rows("SELECT who FROM whose") == [("second",)]
    finally:
        second.close()
    assert spark_engine.query_rows("SELECT who FROM whose") == [("first",)]


def test_missing_java_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    with pytest.raises(DependencyMissing) as caught:
        find_java()
    assert str(caught.value) == (
        f"Java 17+ (JAVA_HOME={tmp_path} has no bin/java) is not installed; install it with: "
        "apt-get install openjdk-17-jre-headless (or set JAVA_HOME)"
    )
    java = tmp_path / "bin" / "java"
    java.parent.mkdir()
    java.write_text("#!/bin/sh\necho 'openjdk version \"11.0.2\" 2019-01-15' >&2\n")
    java.chmod(0o755)
    with pytest.raises(DependencyMissing, match=f"Java 17\\+ \\({java} is version 11\\)"):
        find_java()
    java.write_text("#!/bin/sh\necho 'openjdk version \"17.0.15\" 2025-04-15' >&2\n")
    assert find_java() == (str(java), 17)


def test_missing_pyspark_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "pyspark.sql", None)
    with pytest.raises(DependencyMissing) as caught:
        SparkEngine()
    assert str(caught.value) == (
        "pyspark is not installed; install it with: pip install 'vigil-election[spark]'"
    )
