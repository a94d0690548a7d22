"""`spark_build.py warehouse`: the Spark build becomes the DuckDB warehouse the audit and the
publication read, holding what a DuckDB build of the same data holds, row for row; a failed
Spark build is refused and the previous warehouse stays."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from test_spark_equality import ENGINE_COLUMNS, JSON_COLUMNS

from dbt_harness import TEST_KEY
from privseg.core.settings import PROJECT_DIR
from privseg.spark.session import SparkPaths, start_session
from privseg.spark.warehouse import ImportRefused, copy_table, record_empty_tables

LAUNCHER = PROJECT_DIR / "scripts" / "spark_build.py"


@dataclass
class Import:
    warehouse: Path
    target: Path
    outcome: dict


def run_import(spark_build, spark_raw, base_env: dict, root: Path, results: dict) -> tuple:
    """`spark_build.py warehouse` into root/warehouse.duckdb, from a copy of the imported
    build's target/ whose run_results.json is `results`: (exit code, output)."""
    target = root / "target"
    shutil.copytree(spark_build.root / "export" / "import" / "target", target)
    (target / "run_results.json").write_text(json.dumps(results))
    env = {
        **base_env,
        "RAW_DATA_DIR": str(spark_raw),
        "SPARK_BUILD_DIR": str(spark_build.spark_dir),
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(root / "logs"),
        "WAREHOUSE_PATH": str(root / "warehouse.duckdb"),
        "DUCKDB_TEMP_DIR": str(root / "tmp"),
        "DBT_ENV_SECRET_PSEUDONYM_KEY": TEST_KEY,
    }
    done = subprocess.run(
        [sys.executable, str(LAUNCHER), "warehouse"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


@pytest.fixture(scope="module")
def imported(spark_build) -> Import:
    """The Spark build as the tier's job imported it, right after the build (spark_job.py)."""
    root = spark_build.root / "export" / "import"
    outcome = spark_build.report.get("import", {})
    assert "imported" in outcome, f"the import did not run or was refused: {outcome}"
    return Import(root / "warehouse.duckdb", root / "target", outcome["imported"])


def build_results(imported: Import) -> dict:
    return json.loads((imported.target / "build_results.json").read_text())


def test_the_imported_warehouse_holds_every_relation_of_a_duckdb_build(
    imported, duckdb_build, built_relations
):
    unequal, missing = {}, []
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute(f"attach '{duckdb_build.warehouse}' as ours (read_only)")
        con.execute(f"attach '{imported.warehouse}' as theirs (read_only)")
        held = {
            f"{schema}.{name}"
            for schema, name in con.execute(
                "select schema_name, table_name from duckdb_tables() where database_name = "
                "'theirs' union all select schema_name, view_name from duckdb_views() "
                "where database_name = 'theirs'"
            ).fetchall()
        }
        for relation in built_relations:
            if relation not in held:
                missing.append(relation)
                continue
            columns = [
                row[0]
                for row in con.execute(f"describe ours.{relation}").fetchall()
                if row[0] not in ENGINE_COLUMNS
            ]
            # The release's JSON texts as JSON: Spark writes 1.0E7 where DuckDB writes
            # 10000000.0 (test_spark_equality, JSON_COLUMNS).
            listed = ", ".join(
                f'json("{c}")::varchar as "{c}"' if c in JSON_COLUMNS else f'"{c}"' for c in columns
            )
            ours = f"(select {listed} from ours.{relation})"
            theirs = f"(select {listed} from theirs.{relation})"
            counts = [
                con.execute(f"select count(*) from ({a} except all {b})").fetchone()[0]
                for a, b in ((ours, theirs), (theirs, ours))
            ]
            if any(counts):
                unequal[relation] = counts
    assert not missing, f"relations the import left out: {missing}"
    # Counts only, never values: [rows only in DuckDB's build, rows only in the import].
    assert not unequal, f"relations that differ after the import: {unequal}"
    assert len(built_relations) >= 56
    assert imported.outcome["views"] > 0


def test_the_imported_warehouse_records_the_spark_build_for_the_audit(imported):
    results = build_results(imported)
    assert results["args"]["target"] == "spark"
    build_id = results["metadata"]["invocation_id"]
    assert imported.outcome["build_id"] == build_id
    with duckdb.connect(str(imported.warehouse), read_only=True) as con:
        held = con.execute("select build_id from main.dbt_build_id").fetchall()
    assert held == [(build_id,)]
    # The audit reads the DuckDB compilation of what the Spark build ran.
    manifest = json.loads((imported.target / "manifest.json").read_text())
    assert manifest["metadata"]["adapter_type"] == "duckdb"
    # Owner-only, as a DuckDB build's warehouse: it holds personal data.
    assert imported.warehouse.stat().st_mode & 0o077 == 0
    assert not (imported.warehouse.parent / ".spark-import").exists()


def test_a_failed_spark_build_is_not_imported_and_the_warehouse_stays(
    tmp_path, imported, spark_build, spark_raw, base_env
):
    results = build_results(imported)
    failing = next(r for r in results["results"] if r["unique_id"].startswith("test."))
    failing["status"] = "fail"
    previous = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(previous)) as con:
        con.execute("create table kept as select 1 as x")
    before = previous.read_bytes()
    returncode, output = run_import(spark_build, spark_raw, base_env, tmp_path, results)
    assert returncode == 2, output[-2000:]
    assert f"did not pass (1 failed or skipped, first {failing['unique_id']} (fail))" in output
    assert previous.read_bytes() == before
    assert not (tmp_path / ".spark-import").exists()


# The columns of a typed_ table (a partition per source file), of the types Spark writes.
TYPED_LIKE = (
    "select cast(7 as bigint) as request_id, cast('2026-12-01' as date) as requested_on, "
    "cast(1.5 as decimal(18, 2)) as amount, timestamp'2026-12-01 10:00:00' as recorded_at, "
    "'x' as note, 'part-0.parquet' as _source_file"
)


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return con.execute(f"select column_name, column_type from (describe {table})").fetchall()


def test_a_partitioned_table_without_rows_is_imported_with_its_columns(tmp_path):
    """An empty raw table (erasure_requests may be: meta.allow_empty) leaves its typed_ table,
    partitioned by source file, without a single file: the launcher keeps its schema, and the
    import makes the table from it, as it would have read it from rows."""
    paths = SparkPaths(tmp_path / "spark")
    session = start_session(paths)
    try:
        session.sql("create database staging")
        for name, layout, where in (
            ("with_rows", "partitioned by (_source_file)", ""),
            ("without_rows", "partitioned by (_source_file)", " where false"),
            ("unpartitioned_without_rows", "", " where false"),
        ):
            query = f"{TYPED_LIKE}{where}"
            session.sql(f"create table staging.{name} using parquet {layout} as {query}")
        assert record_empty_tables(session, paths) == ["staging.without_rows"]

        con = duckdb.connect()
        for name in ("with_rows", "without_rows", "unpartitioned_without_rows"):
            copy_table(con, paths, "staging", name)
        assert con.execute("select count(*) from staging.with_rows").fetchone() == (1,)
        for name in ("without_rows", "unpartitioned_without_rows"):
            assert con.execute(f"select count(*) from staging.{name}").fetchone() == (0,)
            assert _columns(con, f"staging.{name}") == _columns(con, "staging.with_rows")

        # Without the record (a build that did not go through the launcher), the import
        # refuses the table, naming it and what to do.
        shutil.move(paths.empty_tables, tmp_path / "kept")
        with pytest.raises(ImportRefused, match=r"staging\.without_rows has no Parquet files"):
            copy_table(duckdb.connect(), paths, "staging", "without_rows")
        shutil.move(tmp_path / "kept", paths.empty_tables)

        # The record is of the last build only: the table has rows now, and is not in it.
        session.sql(f"insert into staging.without_rows {TYPED_LIKE}")
        assert record_empty_tables(session, paths) == []
        assert not list(paths.empty_tables.iterdir())
    finally:
        session.stop()


def test_the_launcher_keeps_the_schemas_of_tables_without_rows(spark_build):
    """What the import reads for a table without rows is written after every local build."""
    assert (spark_build.spark_dir / "empty_tables").is_dir()
