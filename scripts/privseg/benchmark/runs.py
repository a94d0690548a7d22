"""The measured runs of one scale: generate, full and incremental builds, models only against
the same compiled SQL replayed in DuckDB, and the engine floor."""

from __future__ import annotations

import json
import logging
import os
import shutil
import statistics
import subprocess
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb

from privseg.core.dbt_runner import dbt_executable
from privseg.core.keys import KEY_ENV_VAR
from privseg.core.settings import PROJECT_DIR, RAW_TABLES, raw_table_read
from privseg.datagen.cli import main as generate_raw_data
from pseudonym_key import Plugin

SEED = 42
# The Spark comparison (--spark) runs the launcher in the Spark venv (docs/spark.md).
SPARK_PYTHON = PROJECT_DIR / ".venv-spark" / "bin" / "python"
SPARK_LAUNCHER = PROJECT_DIR / "scripts" / "spark_build.py"
SPARK_DRIVER_MEMORY = "6g"


class BenchmarkError(Exception):
    pass


def timed(
    command: list[str], env: dict[str, str], log: Path, cwd: Path = PROJECT_DIR
) -> tuple[float, int, int]:
    """Run command under /usr/bin/time; return (wall seconds, peak RSS bytes, exit code)."""
    rss_file = log.with_suffix(".rss")
    started = time.monotonic()
    with log.open("w") as out:
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", str(rss_file), *command],
            cwd=cwd,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    wall = time.monotonic() - started
    rss_kb = int(rss_file.read_text().strip().splitlines()[-1]) if rss_file.exists() else 0
    return wall, rss_kb * 1024, done.returncode


def dbt_command(args: list[str], as_of: str) -> list[str]:
    """A dbt command line for this project as of a date (the env says where everything is)."""
    return [
        dbt_executable(),
        *args,
        "--vars",
        f"{{as_of: '{as_of}'}}",
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
    ]


class Scale:
    """The folders and dbt calls of one scale."""

    def __init__(self, root: Path, customers: int, memory_limit: str) -> None:
        self.customers = customers
        self.root = root / f"c{customers}"
        self.raw = self.root / "raw"
        self.memory_limit = memory_limit

    def env(self, name: str, memory_limit: str | None = None) -> dict[str, str]:
        folder = self.root / name
        return {
            "RAW_DATA_DIR": str(self.raw),
            "WAREHOUSE_PATH": str(folder / "warehouse.duckdb"),
            "DUCKDB_TEMP_DIR": str(folder / "tmp"),
            "DUCKDB_MEMORY_LIMIT": memory_limit or self.memory_limit,
            "DBT_TARGET": "dev",
            "DBT_TARGET_PATH": str(folder / "target"),
            "DBT_LOG_PATH": str(folder / "logs"),
        }

    def dbt(
        self, name: str, args: list[str], as_of: str, memory_limit: str | None = None
    ) -> tuple[float, int]:
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        log = folder / f"{args[0]}.log"
        wall, rss, code = timed(dbt_command(args, as_of), self.env(name, memory_limit), log)
        if code != 0:
            raise BenchmarkError(f"dbt {' '.join(args)} failed at {self.customers}: see {log}")
        logging.info("  %-28s %8.1f s  peak RSS %.2f GB", f"{name}: dbt {args[0]}", wall, rss / 1e9)
        return wall, rss


def raw_row_counts(raw: Path) -> dict[str, int]:
    with duckdb.connect() as con:
        return {
            table: con.execute(f"select count(*) from {raw_table_read(raw, table)}").fetchall()[0][
                0
            ]
            for table in RAW_TABLES
        }


def engine_floor(raw: Path, repeat: int) -> float:
    """Median seconds of one query that reads every raw row once."""
    with duckdb.connect() as con:
        parts = []
        for table in RAW_TABLES:
            first = con.execute(f"describe select * from {raw_table_read(raw, table)}").fetchall()[
                0
            ][0]
            parts.append(
                f"select count(*) as n, sum(hash({first})) as h from {raw_table_read(raw, table)}"
            )
        sql = "select sum(n), sum(h) from (" + " union all ".join(parts) + ")"
        times = []
        for _ in range(repeat):
            started = time.monotonic()
            con.execute(sql).fetchall()
            times.append(time.monotonic() - started)
    return statistics.median(times)


def topological_models(manifest: dict) -> list[dict]:
    """Model nodes in an order where every model comes after the models it refs."""
    models = {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] == "model"}
    ordered: list[dict] = []
    seen: set[str] = set()

    def visit(uid: str) -> None:
        if uid in seen or uid not in models:
            return
        seen.add(uid)
        for parent in models[uid]["depends_on"]["nodes"]:
            visit(parent)
        ordered.append(models[uid])

    for uid in sorted(models):
        visit(uid)
    return ordered


def replay(scale: Scale, run_dir: Path, replay_dir: Path) -> float:
    """Seconds to run every model's compiled SQL in one DuckDB connection (no dbt)."""
    manifest = json.loads((run_dir / "target" / "manifest.json").read_text())
    warehouse = replay_dir / "warehouse.duckdb"
    config = {
        "memory_limit": scale.memory_limit,
        "threads": 2,
        "temp_directory": str(replay_dir / "tmp"),
        "preserve_insertion_order": False,
    }
    plugin = Plugin("pseudonym_key", {"key": os.environ[KEY_ENV_VAR]})
    con = duckdb.connect(str(warehouse), config=config)
    try:
        plugin.configure_connection(con)
        started = time.monotonic()
        for node in topological_models(manifest):
            package = run_dir / "target" / "compiled" / node["package_name"]
            sql = (package / node["original_file_path"]).read_text()
            kind = "view" if node["config"]["materialized"] == "view" else "table"
            con.execute(f'create schema if not exists "{node["schema"]}"')
            con.execute(f'create or replace {kind} "{node["schema"]}"."{node["alias"]}" as {sql}')
        con.execute("checkpoint")
        return time.monotonic() - started
    finally:
        con.close()


def spill_check(scale: Scale, limit: str, as_of: str) -> dict:
    name = "spill"
    shutil.rmtree(scale.root / name, ignore_errors=True)
    tmp = scale.root / name / "tmp"
    tmp.mkdir(parents=True)
    peak_temp = 0
    folder = scale.root / name
    command = dbt_command(["build"], as_of)
    env = {**os.environ, **scale.env(name, limit)}
    started = time.monotonic()
    with (folder / "build.log").open("w") as out:
        process = subprocess.Popen(
            command, cwd=PROJECT_DIR, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        while process.poll() is None:
            used = sum(p.stat().st_size for p in tmp.rglob("*") if p.is_file())
            peak_temp = max(peak_temp, used)
            time.sleep(0.5)
    wall = time.monotonic() - started
    result = {
        "customers": scale.customers,
        "memory_limit": limit,
        "succeeded": process.returncode == 0,
        "wall_s": round(wall, 1),
        "peak_temp_bytes": peak_temp,
    }
    logging.info(
        "  spill check at %s: %s in %.1f s, peak temp %.2f GB",
        limit,
        "ok" if result["succeeded"] else "FAILED",
        wall,
        peak_temp / 1e9,
    )
    return result


def spark_comparison(scale: Scale, as_of: str) -> dict:
    """The models ported to Spark (selector `spark`), built from the scale's raw data from
    scratch as of the same day by DuckDB and by Spark (the launcher, a local session): wall
    time, node time by layer, the number of nodes."""
    if not SPARK_PYTHON.exists():
        raise BenchmarkError(
            f"--spark needs the Spark venv ({SPARK_PYTHON} is missing): "
            "make .venv-spark/.installed-requirements (docs/spark.md)"
        )
    selection = ["build", "--selector", "spark"]
    duckdb_s, _ = scale.dbt("duckdb-selection", selection, as_of)
    duckdb_target = scale.root / "duckdb-selection" / "target"
    folder = scale.root / "spark"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    env = {
        "RAW_DATA_DIR": str(scale.raw),
        "SPARK_BUILD_DIR": str(folder / "session"),
        "DBT_TARGET_PATH": str(folder / "target"),
        "DBT_LOG_PATH": str(folder / "logs"),
        # The driver runs every task of a local session: Spark's 1 GB default is too small.
        "PYSPARK_SUBMIT_ARGS": f"--driver-memory {SPARK_DRIVER_MEMORY} pyspark-shell",
    }
    command = [
        str(SPARK_PYTHON),
        str(SPARK_LAUNCHER),
        *selection,
        "--vars",
        f"{{as_of: '{as_of}'}}",
    ]
    log = folder / "build.log"
    spark_s, spark_rss, code = timed(command, env, log)
    if code != 0:
        raise BenchmarkError(f"the Spark build failed at {scale.customers}: see {log}")
    logging.info(
        "  %-28s %8.1f s  (DuckDB, same selection: %.1f s)", "spark: build", spark_s, duckdb_s
    )
    nodes = len(json.loads((folder / "target" / "run_results.json").read_text())["results"])
    return {
        "selector": "spark",
        "nodes": nodes,
        "duckdb_s": round(duckdb_s, 1),
        "spark_s": round(spark_s, 1),
        "spark_to_duckdb_ratio": round(spark_s / duckdb_s, 1),
        "spark_peak_rss_bytes": spark_rss,
        "spark_driver_memory": SPARK_DRIVER_MEMORY,
        "duckdb_node_s_by_layer": node_seconds_by_layer(duckdb_target),
        "spark_node_s_by_layer": node_seconds_by_layer(folder / "target"),
    }


def node_seconds_by_layer(target_dir: Path) -> dict[str, float]:
    """Summed node execution time of the last dbt command, by layer: the models' folder under
    models/ (staging, pseudonymized, consent, marts), then seeds, tests, unit tests and the
    run hooks (on-run-start/end: the erasure purge of typed rows, the checkpoint)."""
    manifest = json.loads((target_dir / "manifest.json").read_text())
    results = json.loads((target_dir / "run_results.json").read_text())["results"]
    layers: dict[str, float] = {}
    for result in results:
        uid = result["unique_id"]
        node = manifest["nodes"].get(uid) or manifest.get("unit_tests", {}).get(uid) or {}
        kind = node.get("resource_type", uid.split(".")[0])
        if kind == "model":
            layer = Path(node["original_file_path"]).parts[1]
        else:
            layer = KINDS.get(kind, kind)
        if layer == "exposures":
            continue
        layers[layer] = layers.get(layer, 0.0) + result["execution_time"]
    return {layer: round(seconds, 1) for layer, seconds in sorted(layers.items())}


def model_seconds(layers: dict[str, float]) -> float:
    """Node time of the models alone (no seeds, no tests)."""
    return round(sum(v for k, v in layers.items() if k not in NOT_MODELS), 1)


KINDS = {
    "test": "tests",
    "unit_test": "unit tests",
    "seed": "seeds",
    "operation": "run hooks",
    "exposure": "exposures",
}
NOT_MODELS = ("seeds", "tests", "unit tests")
LAYOUTS = ("single", "partitioned")


def bench_scale(
    scale: Scale,
    days: int,
    end_date: date,
    repeat: int,
    layout: str = "partitioned",
    overhead: bool = True,
    spark: bool = False,
) -> dict:
    """The runs of one scale. Layout partitioned: the last load day is held back, the full
    build runs as of the day before it, `generate_data.py --append-day` then delivers it and the
    incremental build runs as of that day (a daily run). Layout single: one file per table
    holding every day, the full build as of the day before its last day of data and the
    incremental build as of that day (no new file: the facts' new day only)."""
    logging.info("scale %d customers, %s layout", scale.customers, layout)
    shutil.rmtree(scale.root, ignore_errors=True)
    scale.raw.mkdir(parents=True)
    generation = [
        "--customers", str(scale.customers),
        "--days", str(days),
        "--seed", str(SEED),
        "--end-date", end_date.isoformat(),
        "--out", str(scale.raw),
    ]  # fmt: skip
    if layout == "partitioned":
        generation += ["--layout", "partitioned", "--hold-back-days", "1"]
        full_as_of, incremental_as_of = end_date - timedelta(days=1), end_date
    else:
        full_as_of, incremental_as_of = end_date - timedelta(days=2), end_date - timedelta(days=1)
    started = time.monotonic()
    if generate_raw_data(generation) != 0:
        raise BenchmarkError(f"generating the raw data failed at {scale.customers}")
    generate_s = time.monotonic() - started
    rows = raw_row_counts(scale.raw)
    raw_rows = sum(rows.values())
    logging.info("  %-28s %8.1f s  %d raw rows", "generate", generate_s, raw_rows)

    full_s, full_rss = scale.dbt("full", ["build"], full_as_of.isoformat())
    full_layers = node_seconds_by_layer(scale.root / "full" / "target")
    next_day = ["--append-day", "--out", str(scale.raw)]
    if layout == "partitioned" and generate_raw_data(next_day) != 0:
        raise BenchmarkError(f"appending the next load day failed at {scale.customers}")
    incremental_s, incremental_rss = scale.dbt("full", ["build"], incremental_as_of.isoformat())
    incremental_layers = node_seconds_by_layer(scale.root / "full" / "target")

    run_s = replay_s = None
    if overhead:
        scale.dbt("seeded", ["seed"], incremental_as_of.isoformat())
        for name in ("run", "replay"):
            (scale.root / name).mkdir(exist_ok=True)
            shutil.copy(scale.root / "seeded" / "warehouse.duckdb", scale.root / name)
        run_s, _ = scale.dbt("run", ["run"], incremental_as_of.isoformat())
        replay_s = replay(scale, scale.root / "run", scale.root / "replay")
        logging.info("  %-28s %8.1f s", "replayed compiled SQL", replay_s)
    comparison = spark_comparison(scale, incremental_as_of.isoformat()) if spark else None
    floor_s = engine_floor(scale.raw, repeat)
    logging.info("  %-28s %8.2f s (median of %d)", "engine floor", floor_s, repeat)

    full_models, incremental_models = model_seconds(full_layers), model_seconds(incremental_layers)
    return {
        "customers": scale.customers,
        "days": days,
        "layout": layout,
        "raw_rows": raw_rows,
        "raw_rows_by_table": rows,
        "generate_s": round(generate_s, 1),
        "full_build_s": round(full_s, 1),
        "full_build_peak_rss_bytes": full_rss,
        "full_build_node_s_by_layer": full_layers,
        "incremental_build_s": round(incremental_s, 1),
        "incremental_peak_rss_bytes": incremental_rss,
        "incremental_node_s_by_layer": incremental_layers,
        "incremental_ratio": round(incremental_s / full_s, 3),
        "incremental_model_node_ratio": round(incremental_models / full_models, 3)
        if full_models
        else None,
        "dbt_run_s": round(run_s, 1) if overhead else None,
        "replay_s": round(replay_s, 1) if overhead else None,
        "dbt_overhead_ratio": round(run_s / replay_s, 2) if overhead else None,
        "engine_floor_s": round(floor_s, 2),
        "full_build_to_floor_ratio": round(full_s / floor_s, 1),
        "throughput_rows_per_s": round(raw_rows / full_s),
        "spark": comparison,
    }
