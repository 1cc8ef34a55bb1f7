"""Spark, for national scale: the same SQL over the same Parquet files on a cluster."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from vigil.core.errors import DependencyMissing, LakeError
from vigil.lake.engine import LakeEngine

_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


class SparkEngine(LakeEngine):
    name = "spark"

    def __init__(self, master: str = "local[2]", app_name: str = "vigil") -> None:
        try:
            from pyspark.sql import SparkSession
        except ModuleNotFoundError as e:
            raise DependencyMissing("pyspark", "pyspark>=3.5") from e
        self.spark = SparkSession.builder.master(master).appName(app_name).getOrCreate()

    def register(self, view: str, files: list[str]) -> None:
        if not files:
            self.spark.catalog.dropTempView(view)
            return
        self.spark.read.option("mergeSchema", "true").parquet(*files).createOrReplaceTempView(view)

    def register_arrow(self, view: str, table: pa.Table) -> None:
        self.spark.createDataFrame(table.to_pandas()).createOrReplaceTempView(view)

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        # Spark SQL names parameters :name where DuckDB uses $name.
        spark_sql = _PARAM.sub(r":\1", sql)
        try:
            frame = self.spark.sql(spark_sql, args=dict(params) if params else None)
            return frame.toArrow()
        except Exception as e:  # py4j and analysis errors share no narrower base
            raise LakeError(f"spark query failed: {e}") from e

    def close(self) -> None:
        self.spark.stop()
