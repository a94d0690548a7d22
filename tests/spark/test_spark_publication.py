"""The audit and the publication work from a Spark build and publish what DuckDB publishes:
`pipeline.py audit` and `pipeline.py publish` run on the warehouse imported from the Spark build
(spark_job.py, `spark_build.py warehouse`) and on the tier's DuckDB build of the same data and
key; both audits pass, and every published table, in segments.duckdb and as Parquet, is equal
row for row between the two. Each side works on copies of the warehouse file and target/ (the
equality tests read the originals). Counts only in a failure, never values."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from dbt_harness import TEST_KEY
from privseg.core.settings import PROJECT_DIR

PIPELINE = PROJECT_DIR / "scripts" / "pipeline.py"
# The models marked meta.privacy.published, each a table of segments.duckdb and a Parquet file.
PUBLISHED = [
    "fct_segment_profiles",
    "rpt_campaign_performance",
    "rpt_cohort_retention",
    "rpt_contextual_audiences",
    "rpt_lifetime_value",
    "rpt_segment_summary",
]


@dataclass
class Published:
    root: Path
    audit_code: int
    publish_code: int
    output: str

    @property
    def audit(self) -> dict:
        return json.loads((self.root / "target" / "privacy_audit.json").read_text())

    @property
    def current(self) -> Path:
        return (self.root / "published" / "current").resolve()


def audit_and_publish(
    root: Path, warehouse: Path, target: Path, logs: Path, raw: Path, base_env: dict
) -> Published:
    """`pipeline.py audit` then `publish` on copies under `root` of the warehouse file, the
    build's target/ and its logs (the secret scan reads both folders)."""
    shutil.copyfile(warehouse, root / "warehouse.duckdb")
    shutil.copytree(target, root / "target")
    shutil.copytree(logs, root / "logs")
    results = root / "target" / "build_results.json"
    if not results.exists():
        # What `pipeline.py build` keeps of a DuckDB build (steps.step_build): its results.
        shutil.copyfile(root / "target" / "run_results.json", results)
    env = {
        **base_env,
        "RAW_DATA_DIR": str(raw),
        "WAREHOUSE_PATH": str(root / "warehouse.duckdb"),
        "PUBLISH_DIR": str(root / "published"),
        "DBT_TARGET": "ci",
        "DBT_TARGET_PATH": str(root / "target"),
        "DBT_LOG_PATH": str(root / "logs"),
        "DUCKDB_TEMP_DIR": str(root / "tmp"),
        "DBT_ENV_SECRET_PSEUDONYM_KEY": TEST_KEY,
    }
    codes, output = [], ""
    for step in ("audit", "publish"):
        done = subprocess.run(
            [sys.executable, str(PIPELINE), step],
            cwd=PROJECT_DIR,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        codes.append(done.returncode)
        output += done.stdout + done.stderr
    assert TEST_KEY not in output
    return Published(root, codes[0], codes[1], output)


@pytest.fixture(scope="module")
def from_spark(spark_build, spark_raw, base_env, tmp_path_factory) -> Published:
    imported = spark_build.root / "export" / "import"
    assert "imported" in spark_build.report.get("import", {}), "the Spark build was not imported"
    return audit_and_publish(
        tmp_path_factory.mktemp("publish_spark"),
        imported / "warehouse.duckdb",
        imported / "target",
        spark_build.root / "logs",
        spark_raw,
        base_env,
    )


@pytest.fixture(scope="module")
def from_duckdb(duckdb_build, spark_raw, base_env, tmp_path_factory) -> Published:
    return audit_and_publish(
        tmp_path_factory.mktemp("publish_duckdb"),
        duckdb_build.warehouse,
        duckdb_build.target_dir,
        duckdb_build.log_dir,
        spark_raw,
        base_env,
    )


def failed_checks(published: Published) -> list[str]:
    return [c["name"] for c in published.audit["checks"] if c["status"] != "pass"]


def test_the_audit_passes_on_the_spark_build_and_on_the_duckdb_build(from_spark, from_duckdb):
    for published in (from_spark, from_duckdb):
        # Names of failed checks only: their details may quote values.
        assert published.audit_code == 0, f"audit failed: {failed_checks(published)}"
        assert published.audit["status"] == "pass"
    spark_audit, duckdb_audit = from_spark.audit, from_duckdb.audit
    # The audit of the import reports the Spark build, and checks what DuckDB's checks.
    spark_results = json.loads((from_spark.root / "target" / "build_results.json").read_text())
    assert spark_results["args"]["target"] == "spark"
    assert spark_audit["build_id"] == spark_results["metadata"]["invocation_id"]
    assert spark_audit["build_id"] != duckdb_audit["build_id"]
    checks = [c["name"] for c in spark_audit["checks"]]
    assert checks == [c["name"] for c in duckdb_audit["checks"]] and len(checks) >= 10
    tables = [t["name"] for t in spark_audit["published_tables"]]
    assert tables == [t["name"] for t in duckdb_audit["published_tables"]] == PUBLISHED


def test_both_builds_publish_every_table(from_spark, from_duckdb):
    for published in (from_spark, from_duckdb):
        assert published.publish_code == 0, published.output[-2000:]
        manifest = json.loads((published.root / "published" / "publication.json").read_text())
        assert manifest["audit_status"] == "pass"
        assert manifest["build_id"] == published.audit["build_id"]
        with duckdb.connect(str(published.current / "segments.duckdb"), read_only=True) as con:
            held = con.execute("select table_name from duckdb_tables()").fetchall()
        tables = sorted(row[0] for row in held)
        # and publication_info: which release a BI connection reads (release, build, as_of)
        assert tables == sorted([*PUBLISHED, "publication_info"])
        parquet = sorted(p.stem for p in (published.current / "parquet").glob("*.parquet"))
        assert parquet == PUBLISHED


# On the tier's small data (400 customers) every cell of the contextual audiences is below k
# and withheld, on both engines: their candidates, withheld or not, are compared row for row
# in test_spark_equality (contextual.int_contextual_cells_suppressed).
MAY_BE_EMPTY = {"rpt_contextual_audiences"}


def published_differences(from_spark: Published, from_duckdb: Published) -> dict:
    """Published table (file kind) -> (rows only in DuckDB's, rows only in Spark's, rows) of
    the two publications, as multisets, for every table that differs or is empty (but
    MAY_BE_EMPTY)."""
    unequal = {}
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        for name, published in (("ours", from_duckdb), ("theirs", from_spark)):
            con.execute(f"attach '{published.current / 'segments.duckdb'}' as {name} (read_only)")
        for table in PUBLISHED:
            pairs = {
                "duckdb file": (f"ours.{table}", f"theirs.{table}"),
                "parquet": tuple(
                    f"read_parquet('{p.current / 'parquet' / table}.parquet')"
                    for p in (from_duckdb, from_spark)
                ),
            }
            for kind, (ours, theirs) in pairs.items():
                rows = con.execute(f"select count(*) from {ours}").fetchone()[0]
                only_ours = con.execute(
                    f"select count(*) from (from {ours} except all from {theirs})"
                ).fetchone()[0]
                only_theirs = con.execute(
                    f"select count(*) from (from {theirs} except all from {ours})"
                ).fetchone()[0]
                if only_ours or only_theirs or (rows == 0 and table not in MAY_BE_EMPTY):
                    unequal[f"{table} ({kind})"] = (only_ours, only_theirs, rows)
    return unequal


def test_spark_publishes_what_duckdb_publishes_row_for_row(from_spark, from_duckdb):
    assert from_spark.publish_code == 0 and from_duckdb.publish_code == 0
    # Column names and types too: `except all` compares by position.
    with duckdb.connect() as con:
        for name, published in (("ours", from_duckdb), ("theirs", from_spark)):
            con.execute(f"attach '{published.current / 'segments.duckdb'}' as {name} (read_only)")
        for table in PUBLISHED:
            shapes = [con.execute(f"describe {db}.{table}").fetchall() for db in ("ours", "theirs")]
            assert shapes[0] == shapes[1], f"{table}: columns differ"
    # Counts only, never values: (rows only in DuckDB's, rows only in Spark's, rows). Empty
    # tables are listed too (but MAY_BE_EMPTY): equal by being empty would prove nothing.
    unequal = published_differences(from_spark, from_duckdb)
    assert not unequal, f"published tables that differ between the engines: {unequal}"
