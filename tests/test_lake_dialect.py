"""The lake's SQL dialects as data, and the rule that only the lake knows which engine runs."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from vigil.core.errors import LakeError
from vigil.lake.datasets import Lake
from vigil.lake.dialect import DIALECTS, DUCKDB, SPARK, dialect_for
from vigil.lake.duckdb_engine import DuckDBEngine
from vigil.lake.engine import ENGINES

SRC = Path(__file__).resolve().parents[1] / "src" / "vigil"
#: Where naming an engine is the point: the lake itself, and the setting that picks one.
ALLOWED = ("lake/", "core/config.py")
ENGINE_MODULES = {"duckdb", "pyspark", "vigil.lake.duckdb_engine", "vigil.lake.spark_engine"}
ENGINE_CLASSES = {"DuckDBEngine", "SparkEngine"}


def test_every_engine_has_a_dialect_of_its_name() -> None:
    assert tuple(DIALECTS) == ENGINES
    assert [dialect_for(name).name for name in ENGINES] == list(ENGINES)
    assert DuckDBEngine.dialect is DUCKDB
    with pytest.raises(LakeError, match="no SQL dialect for engine 'sqlite'"):
        dialect_for("sqlite")


def test_lake_knows_its_dialect_without_starting_the_engine(tmp_path: Path) -> None:
    lake = Lake(tmp_path, engine="spark")
    assert lake.dialect is SPARK
    assert lake._engine is None


def test_identifiers_are_quoted_whatever_they_hold() -> None:
    assert DUCKDB.quote('Image#lower "x"') == '"Image#lower ""x"""'
    assert SPARK.quote("Tên `xã`") == "`Tên ``xã```"


def test_literals_escape_what_each_engine_reads_as_an_escape() -> None:
    text = "C:\\Windows\\it's Hòa"
    assert DUCKDB.literal(text) == "'C:\\Windows\\it''s Hòa'"
    assert SPARK.literal(text) == "'C:\\\\Windows\\\\it\\'s Hòa'"


def test_parameters_are_rewritten_outside_literals_and_names_only() -> None:
    sql = "SELECT '$kept', \"$col\", `$c2`, 'it''s $x' FROM t WHERE a = $a AND b IN ($b_2)"
    assert DUCKDB.bind(sql) == sql
    assert SPARK.bind(sql) == (
        "SELECT '$kept', \"$col\", `$c2`, 'it''s $x' FROM t WHERE a = :a AND b IN (:b_2)"
    )
    assert SPARK.bind("SELECT 'a\\'$no' || $yes") == "SELECT 'a\\'$no' || :yes"


def test_templates_fill_their_holes() -> None:
    assert DUCKDB.rows_of(DUCKDB.array_of(["1", "NULL"])) == "unnest([1, NULL])"
    assert SPARK.rows_of(SPARK.array_of(["1", "NULL"])) == "explode(array(1, NULL))"
    assert DUCKDB.matches("x", "'a'", ignore_case=True) == "regexp_matches(x, 'a', 'i')"
    assert SPARK.matches("x", "'a'", ignore_case=True) == "regexp(x, '(?iu)' || 'a')"
    assert SPARK.begins("x", "'a'") == "startswith(x, 'a')"
    assert DUCKDB.ends("x", "'a'") == "ends_with(x, 'a')"
    assert SPARK.truncate("day", "ts") == "CAST(date_trunc('day', ts) AS TIMESTAMP_NTZ)"
    assert DUCKDB.seconds("a", "b") == "date_sub('second', a, b)"
    assert SPARK.as_text("n") == "CAST(n AS STRING)"
    assert DUCKDB.scan_parquet("/d/x's/*.parquet") == (
        "read_parquet('/d/x''s/*.parquet', union_by_name = true, hive_partitioning = false)"
    )
    assert SPARK.scan_parquet("/d/*.parquet") == "parquet.`/d/*.parquet`"
    assert DUCKDB.materialize_as("t", "v") == []
    assert SPARK.materialize_as("t", "v") == [
        "DROP VIEW IF EXISTS t",
        "CACHE TABLE t AS SELECT * FROM v",
    ]
    with pytest.raises(LakeError, match="unknown date unit 'fortnight'"):
        DUCKDB.truncate("fortnight", "ts")


def _names_engine(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return "engine" in node.id.lower()
    return isinstance(node, ast.Attribute) and "engine" in node.attr.lower()


def _docstrings(tree: ast.Module) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def engine_branches(path: Path, root: Path = SRC) -> list[str]:
    """Where a module tells engines apart: by name, by class, or by importing one."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    docstrings = _docstrings(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        what = None
        if isinstance(node, ast.Attribute) and (
            node.attr == "engine_name" or (node.attr == "name" and _names_engine(node.value))
        ):
            what = ast.unparse(node)
        elif isinstance(node, ast.Constant) and id(node) not in docstrings:
            if isinstance(node.value, str) and node.value.strip().lower() in ENGINES:
                what = repr(node.value)
        elif isinstance(node, ast.Name) and node.id in ENGINE_CLASSES:
            what = node.id
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name.split(".")[0] in ENGINE_MODULES]
            what = ", ".join(names) or None
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules = {node.module, node.module.split(".")[0]}
            what = f"from {node.module}" if modules & ENGINE_MODULES else None
        if what:
            found.append(f"{path.relative_to(root)}:{getattr(node, 'lineno', '?')}: {what}")
    return found


def test_no_module_outside_the_lake_branches_on_the_engine() -> None:
    modules = [
        p for p in sorted(SRC.rglob("*.py")) if not str(p.relative_to(SRC)).startswith(ALLOWED)
    ]
    assert len(modules) > 50
    assert [hit for path in modules for hit in engine_branches(path)] == []


def test_the_check_sees_each_way_of_branching(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    module.write_text(
        '"""spark"""\n'
        "import duckdb\n"
        "from vigil.lake.spark_engine import SparkEngine\n"
        "def f(engine, lake):\n"
        "    if engine.name == 'spark': pass\n"
        "    if lake.engine_name in {'DuckDB'}: pass\n"
        "    return lake.engine.name, isinstance(engine, SparkEngine)\n",
        encoding="utf-8",
    )
    found = engine_branches(module, tmp_path)
    assert sorted(found) == [
        "probe.py:2: duckdb",
        "probe.py:3: from vigil.lake.spark_engine",
        "probe.py:5: 'spark'",
        "probe.py:5: engine.name",
        "probe.py:6: 'DuckDB'",
        "probe.py:6: lake.engine_name",
        "probe.py:7: SparkEngine",
        "probe.py:7: lake.engine.name",
    ]
