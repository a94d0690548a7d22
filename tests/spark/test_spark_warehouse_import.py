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
