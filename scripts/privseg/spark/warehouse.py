"""`python scripts/spark_build.py warehouse`: a Spark build as the DuckDB warehouse.

The audit, the publication, the subject access report and the audience export read one DuckDB
file (WAREHOUSE_PATH). After a Spark build, this command makes that file from what Spark wrote,
so `pipeline.py audit` and `pipeline.py publish` then run unchanged and BI tools see the same
publication whichever engine built it:

1. the Spark build must have succeeded: every node of its run_results.json (DBT_TARGET_PATH)
   passed, or nothing is imported (the same rule as publish);
2. every table the build wrote (models, seeds, main.dbt_build_id) is copied from its Parquet
   files in the local session's warehouse dir (SPARK_BUILD_DIR/warehouse/<schema>.db/<table>/)
   into a new DuckDB file, with DuckDB reading the files itself (nothing passes through Spark's
   driver); a partitioned table without rows has no file at all (an empty raw table such as
   erasure_requests leaves its typed_ table so), and is made from the file without rows the
   launcher wrote of its schema after the build (record_empty_tables);
3. the project's views (staging) are created over those tables by dbt on DuckDB (`dbt run
   --select config.materialized:view`): a view is a query, not data, and DuckDB's compilation
   of the same model reads the same typed_ tables; `dbt compile` then gives the audit the
   DuckDB SQL of every node (its lineage check reads it): manifest.json becomes DuckDB's, dbt's
   own files of these two runs stay in DBT_TARGET_PATH/duckdb-import;
4. main.dbt_build_id is the Spark build's again (dbt's view run records its own) and the Spark
   build's run_results.json (left in place: the import can run again) is kept as
   build_results.json, so the audit records the Spark build and publish accepts only it;
5. the new file replaces WAREHOUSE_PATH with one rename, under the warehouse's lock: a failure
   at any step leaves the previous warehouse as it was.

It needs the raw files (the views' on-run-start check reads them) and the key (the DuckDB
plugin checks it against the imported key registry), as a DuckDB build does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import duckdb

from privseg.core.lock import WarehouseLock
from privseg.core.manifest import failed_nodes
from privseg.core.modes import owner_only
from privseg.core.settings import PROJECT_DIR, Settings
from privseg.spark.session import SparkPaths

TABLE_MATERIALIZATIONS = ("table", "incremental", "seed")
BUILD_ID_TABLE = ("main", "dbt_build_id")
DUCKDB_TARGET = "duckdb-import"
STAGING_DIR = ".spark-import"


class ImportRefused(Exception):
    """The Spark build cannot become the warehouse: why, and what to do."""


def built_tables(manifest: dict, results: dict) -> list[tuple[str, str]]:
    """(schema, table) of every model and seed the build wrote as a table."""
    ran = {result["unique_id"] for result in results.get("results", [])}
    tables = []
    for unique_id in sorted(ran):
        node = manifest["nodes"].get(unique_id)
        if node and node["config"].get("materialized") in TABLE_MATERIALIZATIONS:
            tables.append((node["schema"], node["alias"]))
    return tables


def built_node_names(manifest: dict, results: dict) -> list[str]:
    """Names of the models, seeds and tests the build ran (what dbt compile selects)."""
    names = set()
    for result in results.get("results", []):
        node = manifest["nodes"].get(result["unique_id"])
        if node and node["resource_type"] in ("model", "seed", "test"):
            names.add(node["name"])
    return sorted(names)


def hidden(part: str) -> bool:
    """Spark's own files and folders (_SUCCESS, _temporary, .crc files), not a partition's
    folder (`_source_file=...`: a partition column may begin with an underscore)."""
    return part.startswith(".") or (part.startswith("_") and "=" not in part)


def parquet_files(folder: Path) -> list[Path]:
    """The data files of one Spark table folder (Spark's _SUCCESS and .crc files left out)."""
    return sorted(
        path
        for path in folder.rglob("*.parquet")
        # a partition's folder may end in .parquet too (`_source_file=orders.parquet`)
        if path.is_file() and not any(hidden(part) for part in path.relative_to(folder).parts)
    )


def partition_values(folder: Path, path: Path) -> list[tuple[str, str]]:
    """The partition columns of a data file, from its folders (`column=value`, the value
    escaped by Spark as %XX), in the order Spark nests them."""
    values = []
    for part in path.relative_to(folder).parts[:-1]:
        column, _, value = part.partition("=")
        values.append((unquote(column), unquote(value)))
    return values


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def record_empty_tables(session: Any, paths: SparkPaths) -> list[str]:
    """After a build in a local session: every table of the warehouse dir without a data file
    (Spark writes none for a partitioned table without rows) gets a Parquet file without rows
    of its schema in paths.empty_tables/<schema>.<table>/, written by Spark as it writes the
    table's rows, for copy_table. The folder is made anew (written beside, then swapped in), so
    it never describes an earlier build; returns the tables recorded."""
    fresh = paths.empty_tables.with_name(paths.empty_tables.name + ".new")
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir(parents=True)
    recorded = []
    for database in sorted(paths.warehouse.glob("*.db")):
        for folder in sorted(p for p in database.iterdir() if p.is_dir() and not hidden(p.name)):
            if parquet_files(folder):
                continue
            name = f"{database.name.removesuffix('.db')}.{folder.name}"
            if not session.catalog.tableExists(name):
                continue  # a folder no table owns any more: nothing to import
            session.table(name).limit(0).coalesce(1).write.parquet(str(fresh / name))
            recorded.append(name)
    shutil.rmtree(paths.empty_tables, ignore_errors=True)
    fresh.rename(paths.empty_tables)
    return recorded


def copy_table(con: duckdb.DuckDBPyConnection, paths: SparkPaths, schema: str, table: str):
    """One Spark table into DuckDB, its partition columns last, as Spark writes them. Their
    values are read from the folder names (unescaped here: a partition value is a source file's
    name, which Spark escapes), not by DuckDB's hive partitioning. A table without a data file
    is made from the schema the launcher recorded (record_empty_tables), with no rows."""
    folder = paths.warehouse / f"{schema}.db" / table
    files = parquet_files(folder) if folder.is_dir() else []
    con.execute(f'create schema if not exists "{schema}"')
    if not files:
        schema_files = parquet_files(paths.empty_tables / f"{schema}.{table}")
        if not folder.is_dir() or not schema_files:
            raise ImportRefused(
                f"table {schema}.{table} has no Parquet files in {folder} and no recorded "
                f"schema in {paths.empty_tables}: was the Spark build written to this "
                "SPARK_BUILD_DIR? (run scripts/spark_build.py build again)"
            )
        listed = ", ".join(sql_text(str(path)) for path in schema_files)
        con.execute(
            f'create table "{schema}"."{table}" as select * '
            f"from read_parquet([{listed}], hive_partitioning = false) limit 0"
        )
        return
    by_partition: dict[tuple[tuple[str, str], ...], list[Path]] = {}
    for path in files:
        by_partition.setdefault(tuple(partition_values(folder, path)), []).append(path)
    selects = []
    for values, paths in by_partition.items():
        listed = ", ".join(sql_text(str(path)) for path in paths)
        columns = "".join(
            f', cast({sql_text(value)} as varchar) as "{column}"'
            if value != "__HIVE_DEFAULT_PARTITION__"
            else f', cast(null as varchar) as "{column}"'
            for column, value in values
        )
        selects.append(
            f"select *{columns} from read_parquet([{listed}], hive_partitioning = false)"
        )
    con.execute(f'create table "{schema}"."{table}" as ' + " union all by name ".join(selects))


def duckdb_dbt(settings: Settings, warehouse: Path, *args: str) -> None:
    """dbt on DuckDB over `warehouse`, writing to its own target folder (DUCKDB_TARGET under
    DBT_TARGET_PATH), so the Spark build's run_results.json stays. In a child process:
    dbt-duckdb keeps its database open in the process that ran it."""
    env = {**os.environ, "WAREHOUSE_PATH": str(warehouse), "DBT_TARGET": "dev"}
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            *args,
            "--target",
            "dev",
            "--target-path",
            str(settings.target_dir / DUCKDB_TARGET),
            "--vars",
            json.dumps({"as_of": import_as_of(warehouse)}),
            "--project-dir",
            str(PROJECT_DIR),
            "--profiles-dir",
            str(PROJECT_DIR),
        ],
        cwd=PROJECT_DIR,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise ImportRefused(
            f"dbt {args[0]} on DuckDB over the imported tables failed (dbt's output above; "
            f"{settings.target_dir / DUCKDB_TARGET}): nothing imported"
        )


def import_as_of(warehouse: Path) -> str:
    """The build's as_of, from the imported key registry (the views filter by it)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        row = con.execute(
            "select cast(max(as_of_date) as varchar) from pseudonymized.int_pseudonym_key_registry"
        ).fetchone()
    finally:
        con.close()
    if not row or row[0] is None:
        raise ImportRefused("the Spark build has no key registry row: build it again")
    return row[0]


def import_build(settings: Settings, paths: SparkPaths) -> dict:
    """Make WAREHOUSE_PATH from the Spark build; return counts for the summary line."""
    started = time.monotonic()
    target = settings.target_dir
    try:
        manifest = json.loads((target / "manifest.json").read_text())
        results = json.loads((target / "run_results.json").read_text())
    except FileNotFoundError as error:
        raise ImportRefused(
            f"no Spark build in {target} ({Path(error.filename).name} missing): run "
            "scripts/spark_build.py build first"
        ) from None
    if results.get("args", {}).get("target") != "spark":
        raise ImportRefused(
            f"{target / 'run_results.json'} is not a Spark build's (target "
            f"{results.get('args', {}).get('target')!r}): run scripts/spark_build.py build first"
        )
    failed = failed_nodes(results)
    if failed:
        raise ImportRefused(
            f"the Spark build did not pass ({len(failed)} failed or skipped, first {failed[0]}): "
            "nothing imported; fix and build again"
        )
    tables = built_tables(manifest, results) + [BUILD_ID_TABLE]
    warehouse = settings.warehouse_path
    # The same file name in a folder beside it: DuckDB names a database by its file, and the
    # views dbt creates name their database.
    staging_dir = warehouse.parent / STAGING_DIR
    staged = staging_dir / warehouse.name
    lock = WarehouseLock(warehouse)
    lock.acquire("spark import")
    try:
        # Owner-only, as every file of a DuckDB build: the warehouse holds personal data.
        with owner_only():
            shutil.rmtree(staging_dir, ignore_errors=True)
            staging_dir.mkdir(parents=True)
            try:
                con = duckdb.connect(str(staged))
                try:
                    for number, (schema, table) in enumerate(tables, 1):
                        copy_table(con, paths, schema, table)
                        if number % 10 == 0 or number == len(tables):
                            print(
                                f"spark_build: imported {number}/{len(tables)} tables", flush=True
                            )
                finally:
                    con.close()
                # The views over the tables, then every node compiled for DuckDB: the audit reads
                # the compiled SQL (lineage) of the engine whose file it checks.
                duckdb_dbt(settings, staged, "run", "--select", "config.materialized:view")
                duckdb_dbt(
                    settings, staged, "compile", "--select", *built_node_names(manifest, results)
                )
                con = duckdb.connect(str(staged))
                try:
                    # dbt's view run recorded its own id: the warehouse holds the Spark build.
                    con.execute("drop table main.dbt_build_id")
                    copy_table(con, paths, *BUILD_ID_TABLE)
                    con.execute("checkpoint")
                    views = con.execute(
                        "select count(*) from duckdb_views() where not internal"
                    ).fetchone()[0]
                finally:
                    con.close()
                shutil.copyfile(target / DUCKDB_TARGET / "manifest.json", target / "manifest.json")
                (target / "build_results.json").write_text(json.dumps(results))
                os.replace(staged, warehouse)
                warehouse.with_name(warehouse.name + ".wal").unlink(missing_ok=True)
            finally:
                shutil.rmtree(staging_dir, ignore_errors=True)
    finally:
        lock.release()
    return {
        "tables": len(tables),
        "views": views,
        "seconds": round(time.monotonic() - started, 1),
        "build_id": results["metadata"]["invocation_id"],
    }
