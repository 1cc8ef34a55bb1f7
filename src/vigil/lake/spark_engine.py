"""Spark, for national scale: the same SQL over the same Parquet files on a cluster.

pyspark (the `spark` extra) and Java 17 or later are checked before Spark starts, so a missing
one is named instead of surfacing as a launcher's error. The session is set so that Vigil's SQL
means on Spark what it means on DuckDB; what still differs is `vigil.lake.dialect.SPARK`.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from vigil.core.errors import DependencyMissing, LakeError
from vigil.lake.dialect import SPARK
from vigil.lake.engine import LakeEngine, check_view_name

PYSPARK_EXTRA = "vigil-election[spark]"
JAVA_PACKAGE = "openjdk-17-jre-headless"
MIN_JAVA = 17
#: Settings that make Spark read Vigil's SQL as DuckDB does, whatever the master.
SQL_SETTINGS = {
    # The lake's timestamps are UTC without a zone, as DuckDB reads them.
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    # "name" is a column, as in standard SQL and DuckDB; Spark would read a string, and a
    # comparison with it would silently be false.
    "spark.sql.ansi.enabled": "true",
    "spark.sql.ansi.doubleQuotedIdentifiers": "true",
    # Batches of one dataset differ in their sparse columns.
    "spark.sql.parquet.mergeSchema": "true",
}
#: Settings for a local master on a small machine: no UI, nothing beyond loopback.
LOCAL_SETTINGS = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
}
#: For short runs on small data (tests): the JVM starts in a third of the time with only its
#: quick compiler and a serial collector, and tiny queries run faster without generated code
#: and without adaptive plans (a local session and its first query: 45 s -> 15 s on a busy
#: 2-core machine). A long job at scale wants Spark's defaults.
SHORT_RUN_SETTINGS = {
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.adaptive.enabled": "false",
}
#: pyspark logs every failed query with its Java stack; the engine raises it as a LakeError.
_QUERY_LOGGERS = ("SQLQueryContextLogger", "DataFrameQueryContextLogger")
_JAVA_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?')
_LOCAL_CORES = re.compile(r"^local\[(\d+)")
#: Arrow tables up to this many rows go to Spark in memory; larger ones through Parquet.
INLINE_ROWS = 20_000


def find_java() -> tuple[str, int]:
    """The java Spark's launcher will run (JAVA_HOME's, else the PATH's) and its major version."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    install = f"apt-get install {JAVA_PACKAGE} (or set JAVA_HOME)"
    if not java or not os.access(java, os.X_OK):
        where = f"JAVA_HOME={home} has no bin/java" if home else "no java on PATH"
        raise DependencyMissing(f"Java {MIN_JAVA}+ ({where})", install=install)
    try:
        shown = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise DependencyMissing(f"a working Java {MIN_JAVA}+ ({java}: {e})", install=install) from e
    found = _JAVA_VERSION.search(shown.stderr + shown.stdout)
    major = int(found.group(1)) if found else 0
    if major == 1 and found and found.group(2):  # "1.8.0" is Java 8
        major = int(found.group(2))
    if major < MIN_JAVA:
        raise DependencyMissing(
            f"Java {MIN_JAVA}+ ({java} is version {major or 'unknown'})", install=install
        )
    return java, major


def _local_settings(master: str) -> dict[str, str]:
    if not master.startswith("local"):
        return {}
    cores = _LOCAL_CORES.match(master)
    # Spark's 200 shuffle partitions are for a cluster; locally each is a task to schedule.
    partitions = cores.group(1) if cores else str(os.cpu_count() or 2)
    return {
        **LOCAL_SETTINGS,
        "spark.sql.shuffle.partitions": partitions,
        "spark.default.parallelism": partitions,
    }


def _without_zone(table: pa.Table) -> pa.Table:
    """Timestamps with a zone (Spark's TIMESTAMP, in the session's UTC) as the lake's: none."""
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            # The cast keeps the instant: the values are UTC, now without a zone.
            table = table.set_column(
                i, field.name, table.column(i).cast(pa.timestamp(field.type.unit))
            )
    return table


def _reason(error: Exception) -> str:
    """The first line of a Spark error: its class and message, not the Java stack."""
    lines = [line for line in str(error).splitlines() if line.strip()]
    return lines[0].strip() if lines else type(error).__name__


def _abbreviated(sql: str, limit: int = 300) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


class SparkEngine(LakeEngine):
    name = "spark"
    dialect = SPARK

    def __init__(
        self,
        master: str = "local[2]",
        app_name: str = "vigil",
        settings: Mapping[str, str] | None = None,
    ) -> None:
        """`settings` are Spark settings over this engine's own (a cluster's memory, say)."""
        try:
            from pyspark.sql import SparkSession
        except ModuleNotFoundError as e:
            raise DependencyMissing("pyspark", PYSPARK_EXTRA) from e
        active = SparkSession.getActiveSession()
        self._warehouse: str | None = None
        #: Large Arrow tables handed to Spark as Parquet files (register_arrow), removed on close.
        self._staging: str | None = None
        self._staged = itertools.count()
        #: The files each view was last registered over.
        self._registered: dict[str, tuple[str, ...]] = {}
        if active is not None:
            # Another engine (a test's, a notebook's) started Spark: share its context, leave
            # it running, and keep views of our own (a session of our own).
            self.spark, self._owns = active.newSession(), False
            for key, value in SQL_SETTINGS.items():
                self.spark.conf.set(key, value)
        else:
            find_java()
            # Spark writes a spark-warehouse folder wherever it was started; not in a checkout.
            self._warehouse = tempfile.mkdtemp(prefix="vigil-spark-")
            builder = SparkSession.builder.master(master).appName(app_name)
            chosen = {**SQL_SETTINGS, **_local_settings(master), **(settings or {})}
            chosen["spark.sql.warehouse.dir"] = self._warehouse
            for key, value in chosen.items():
                builder = builder.config(key, value)
            try:
                self.spark = builder.getOrCreate()
            except Exception as e:  # the launcher's errors share no narrower base
                shutil.rmtree(self._warehouse, ignore_errors=True)
                raise LakeError(f"Spark did not start on {master}: {_reason(e)}") from e
            self._owns = True
            self.spark.sparkContext.setLogLevel("ERROR")
        for logger in _QUERY_LOGGERS:
            logging.getLogger(logger).setLevel(logging.CRITICAL)

    def register(self, view: str, files: list[str]) -> None:
        check_view_name(view)
        if not files:
            self._registered.pop(view, None)
            self.spark.catalog.dropTempView(view)
            return
        # A lake's batch files are written once and never changed: the same list is the same
        # relation, and reading it again would run a job over every file's footer.
        if self._registered.get(view) == tuple(files):
            return
        try:
            frame = self.spark.read.option("mergeSchema", "true").parquet(*files)
            frame.createOrReplaceTempView(view)
            self._registered[view] = tuple(files)
        except Exception as e:  # py4j and analysis errors share no narrower base
            raise LakeError(
                f"spark could not read {files[0]} (of {len(files)}): {_reason(e)}"
            ) from e

    def register_arrow(self, view: str, table: pa.Table) -> None:
        """A small table goes to Spark as it is; a large one through a Parquet file in the
        engine's staging folder (a table handed over in memory becomes a local relation that
        the driver copies whole while planning: 100,000 linkage records overflowed a 1 GiB
        driver heap)."""
        check_view_name(view)
        self._registered.pop(view, None)
        if table.num_rows > INLINE_ROWS:
            self._register_staged(view, table)
            return
        try:
            # pyspark 4 takes an Arrow table as it is (no pandas in between).
            self.spark.createDataFrame(table).createOrReplaceTempView(view)
        except Exception as e:  # py4j and Arrow conversion errors share no narrower base
            raise LakeError(f"spark could not take the table for {view}: {_reason(e)}") from e

    def _register_staged(self, view: str, table: pa.Table) -> None:
        import pyarrow.parquet as pq

        if self._staging is None:
            self._staging = tempfile.mkdtemp(prefix="vigil-spark-staging-")
        path = Path(self._staging) / f"{view}-{next(self._staged)}.parquet"
        pq.write_table(table, path)
        try:
            self.spark.read.parquet(str(path)).createOrReplaceTempView(view)
        except Exception as e:  # py4j and analysis errors share no narrower base
            raise LakeError(f"spark could not take the table for {view}: {_reason(e)}") from e

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        bound = self.dialect.bind(sql)
        try:
            frame = self.spark.sql(bound, args=dict(params) if params else None)
            return _without_zone(frame.toArrow())
        except Exception as e:  # py4j and analysis errors share no narrower base
            raise LakeError(f"spark query failed: {_reason(e)} in: {_abbreviated(bound)}") from e

    def linkage_api(self) -> Any:
        from splink import SparkAPI

        # Splink's similarity jar is built for another Scala than pyspark 4's: the linkage
        # models use only functions Spark has (equality, levenshtein), so it is not loaded.
        return SparkAPI(  # type: ignore[no-untyped-call]
            spark_session=self.spark,
            register_udfs_automatically=False,
            # In memory: a checkpoint would need a checkpoint folder the session does not have.
            break_lineage_method="persist",
        )

    def close(self) -> None:
        if self._owns:
            self.spark.stop()
        if self._warehouse:
            shutil.rmtree(self._warehouse, ignore_errors=True)
        if self._staging:
            shutil.rmtree(self._staging, ignore_errors=True)
