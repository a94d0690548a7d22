"""`python scripts/spark_build.py [dbt arguments]`: run dbt on Spark (docs/spark.md).

Starts a local SparkSession (or connects to SPARK_REMOTE), registers the key pads, the project's
SQL functions (functions.py) and the raw tables in it, then runs dbt in this process (dbtRunner)
with `--target spark`: dbt-spark's `session` method runs every statement in that same session.
The dbt arguments are passed through (default: `build --selector spark`), `--full-refresh`
included: without it a run is incremental as on DuckDB (the typed_ tables read only new or
changed raw files, a partition per file; the event-dated tables delete their late-data window
and append; the erasure log appends new requests), and the models keyed by subject and the
seeds are rebuilt in full by their own `full_refresh` config on Spark (keyed_full_refresh;
docs/spark.md).

Environment: DBT_ENV_SECRET_PSEUDONYM_KEY (the key, required), RAW_DATA_DIR, SPARK_BUILD_DIR
(the local session's files: warehouse, metastore, event log; default target/spark),
SPARK_MASTER (default local[2]), SPARK_REMOTE (a Spark Connect URL: no local session).

`python scripts/spark_build.py warehouse` then makes the DuckDB warehouse (WAREHOUSE_PATH) from
the last local Spark build, for the audit and the publication (warehouse.py).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

from privseg.core.settings import PROJECT_DIR
from privseg.spark.functions import register_functions
from privseg.spark.raw import register_raw_views
from privseg.spark.session import (
    REMOTE_ENV_VAR,
    SPARK_DIR_ENV_VAR,
    SparkBuildError,
    SparkPaths,
    register_pads,
    start_session,
)
from privseg.spark.warehouse import ImportRefused, record_empty_tables

KEY_ENV_VAR = "DBT_ENV_SECRET_PSEUDONYM_KEY"
DEFAULT_ARGS = ("build", "--selector", "spark")


def spark_paths() -> SparkPaths:
    """The local session's folder: SPARK_BUILD_DIR, default target/spark in the project."""
    root = Path(os.environ.get(SPARK_DIR_ENV_VAR) or "target/spark")
    return SparkPaths(root if root.is_absolute() else PROJECT_DIR / root)


def dbt_arguments(args: Sequence[str]) -> list[str]:
    """The dbt command line: the user's (or the default), on the spark target."""
    command = list(args) or list(DEFAULT_ARGS)
    if "--target" not in command and "-t" not in command:
        command += ["--target", "spark"]
    for flag, value in (("--project-dir", PROJECT_DIR), ("--profiles-dir", PROJECT_DIR)):
        if flag not in command:
            command += [flag, str(value)]
    return command


@contextmanager
def in_project_dir():
    """dbt's relative paths (RAW_DATA_DIR=data/raw, target/) are the project's."""
    before = Path.cwd()
    os.chdir(PROJECT_DIR)
    try:
        yield
    finally:
        os.chdir(before)


def run(args: Sequence[str], session: object | None = None) -> bool:
    """Register the pads, the functions and the raw views in `session` (or a new one) and run
    dbt; True when dbt succeeded. The session is left running when passed in, else stopped."""
    from dbt.cli.main import dbtRunner

    from pseudonym_key import validate_key

    validate_key(os.environ.get(KEY_ENV_VAR))  # no key: stop before Spark starts
    own_session = session is None
    with in_project_dir():
        started = time.monotonic()
        if session is None:
            session = start_session(spark_paths())
        print(f"spark_build: Spark session ready in {time.monotonic() - started:.1f} s", flush=True)
        try:
            fingerprint = register_pads(session, os.environ.get(KEY_ENV_VAR))
            print(f"spark_build: pseudonym key fingerprint {fingerprint}", flush=True)
            functions = register_functions(session)
            print("spark_build: functions " + ", ".join(functions), flush=True)
            layouts = register_raw_views(session)
            print(
                "spark_build: raw tables "
                + ", ".join(f"{table} ({layout})" for table, layout in layouts.items()),
                flush=True,
            )
            result = dbtRunner().invoke(dbt_arguments(args))
            if result.success and not os.environ.get(REMOTE_ENV_VAR):
                empty = record_empty_tables(session, spark_paths())
                if empty:
                    print(
                        f"spark_build: {len(empty)} table(s) without rows, their schema kept "
                        "for the warehouse import: " + ", ".join(empty),
                        flush=True,
                    )
            return bool(result.success)
        finally:
            if own_session:
                session.stop()


def import_warehouse() -> None:
    """`spark_build.py warehouse`: the last Spark build becomes WAREHOUSE_PATH (warehouse.py)."""
    from privseg.core.settings import Settings
    from privseg.spark.warehouse import import_build
    from pseudonym_key import validate_key

    validate_key(os.environ.get(KEY_ENV_VAR))
    if os.environ.get(REMOTE_ENV_VAR):
        raise ImportRefused(
            "the warehouse import reads a local session's files (SPARK_BUILD_DIR); with "
            "SPARK_REMOTE the cluster holds the tables: see docs/spark.md, On a cluster"
        )
    settings = Settings.from_env()
    done = import_build(settings, spark_paths())
    print(
        f"spark_build: warehouse {settings.warehouse_path} now holds Spark build "
        f"{done['build_id']}: {done['tables']} tables, {done['views']} views, "
        f"{done['seconds']} s; next: pipeline.py audit, pipeline.py publish",
        flush=True,
    )


def main(argv: Sequence[str] | None = None) -> int:
    from pseudonym_key import PseudonymKeyError

    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args[:1] == ["warehouse"]:
            import_warehouse()
            return 0
        return 0 if run(args) else 1
    except (SparkBuildError, PseudonymKeyError, ImportRefused) as error:
        # dbt's errors print as "Runtime Error" plus the message: the message alone, one line.
        print(f"spark_build: {getattr(error, 'msg', None) or error}", file=sys.stderr)
        return 2
