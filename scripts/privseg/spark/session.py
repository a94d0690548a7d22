"""The SparkSession a Spark build runs in, and what the launcher registers in it before dbt.

Local by default: `local[2]`, its warehouse dir, Derby metastore, event log and Spark's own
scratch files under one folder of the build (`SparkPaths`), the web UI off. With SPARK_REMOTE
set (`sc://host:15002`), a Spark Connect session to that server instead: the cluster owns its
warehouse and metastore.

The key reaches Spark only as the temporary view PADS_VIEW of the two HMAC-SHA256 pads (and the
key's fingerprint), made from Python data in this session: never a Spark conf, SQL text or a SQL
variable, which Spark shows in plans, the UI and error messages (docs/spark.md). A temporary
view lives in this session only; dbt-spark's `session` method runs its SQL in the active
SparkSession, so the models see it, and a session without it fails at the first pseudonym.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pseudonym_key import hmac_pads, key_fingerprint, validate_key

PADS_VIEW = "privseg_pseudonym_pads"
LAYOUTS_VIEW = "privseg_raw_layouts"
RAW_VIEW_PREFIX = "privseg_raw_"
REMOTE_ENV_VAR = "SPARK_REMOTE"
SPARK_DIR_ENV_VAR = "SPARK_BUILD_DIR"
MASTER_ENV_VAR = "SPARK_MASTER"


class SparkBuildError(Exception):
    """A Spark build cannot start: one line, never the key."""


@dataclass(frozen=True)
class SparkPaths:
    """Where a local session writes: everything under `root` (default target/spark)."""

    root: Path

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse"

    @property
    def metastore(self) -> Path:
        return self.root / "metastore_db"

    @property
    def derby_home(self) -> Path:
        return self.root / "derby"

    @property
    def event_log(self) -> Path:
        return self.root / "events"

    @property
    def scratch(self) -> Path:
        return self.root / "tmp"

    @property
    def empty_tables(self) -> Path:
        """Schemas of the tables without rows, for the warehouse import (warehouse.py)."""
        return self.root / "empty_tables"


def check_java() -> None:
    """Spark needs a Java runtime (17); say so in one line instead of a py4j traceback."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return
    if shutil.which("java") is None:
        raise SparkBuildError(
            "no Java runtime: Spark needs Java 17 (install openjdk-17-jre-headless, or set "
            "JAVA_HOME to a Java 17 installation)"
        )


def local_conf(paths: SparkPaths, master: str = "local[2]") -> dict[str, str]:
    """The settings of a local session. No value here is secret: Spark shows confs in plans,
    logs and the UI, which is why the key is never one."""
    return {
        "spark.master": master,
        "spark.app.name": "privacy_segmentation",
        "spark.sql.warehouse.dir": str(paths.warehouse),
        "javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={paths.metastore};create=true"
        ),
        "spark.driver.extraJavaOptions": (
            f"-Dderby.system.home={paths.derby_home} -Djava.io.tmpdir={paths.scratch}"
        ),
        "spark.local.dir": str(paths.scratch),
        # No web UI (it would serve plans to anyone on the port); the event log, which holds
        # the same plans, is kept with the build so the leak scan reads it.
        "spark.ui.enabled": "false",
        "spark.eventLog.enabled": "true",
        "spark.eventLog.dir": str(paths.event_log),
        "spark.sql.shuffle.partitions": "4",
        # Timestamps read, shown and compared in UTC (DuckDB's timestamps have no time zone).
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.showConsoleProgress": "false",
        # Tables are plain Parquet (no Delta/Iceberg here), written as DuckDB reads them.
        "spark.sql.sources.default": "parquet",
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    }


def start_session(paths: SparkPaths | None = None) -> Any:
    """The session a build runs in: Spark Connect when SPARK_REMOTE is set, else local."""
    from pyspark.sql import SparkSession

    remote = os.environ.get(REMOTE_ENV_VAR, "").strip()
    if remote:
        return SparkSession.builder.remote(remote).getOrCreate()
    check_java()
    if paths is None:
        raise SparkBuildError("a local Spark session needs a folder for its files")
    for folder in (paths.root, paths.derby_home, paths.event_log, paths.scratch):
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    # The Python workers of the project's functions (functions.py) run this interpreter, whose
    # venv has the plugin's dependencies; PySpark's default is whatever `python3` is on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.enableHiveSupport()
    master = os.environ.get(MASTER_ENV_VAR, "").strip() or "local[2]"
    for name, value in local_conf(paths, master).items():
        builder = builder.config(name, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def register_pads(session: Any, key_text: str | None) -> str:
    """Register PADS_VIEW (ipad, opad, key_fingerprint) from the key; return the fingerprint.

    The pads are key-equivalent: they go into the session as data of a DataFrame built here,
    never as text of a SQL statement or a conf. Raises PseudonymKeyError (no key, too short...)
    with the plugin's own message, which never holds the key.
    """
    from pyspark.sql.types import BinaryType, StringType, StructField, StructType

    key = validate_key(key_text)
    ipad, opad = hmac_pads(key)
    fingerprint = key_fingerprint(key)
    schema = StructType(
        [
            StructField("ipad", BinaryType(), False),
            StructField("opad", BinaryType(), False),
            StructField("key_fingerprint", StringType(), False),
        ]
    )
    frame = session.createDataFrame([(bytearray(ipad), bytearray(opad), fingerprint)], schema)
    frame.createOrReplaceTempView(PADS_VIEW)
    return fingerprint
