"""Benchmark the build at growing scale: full, models only, replayed SQL, incremental, floor.

    python scripts/benchmark.py --scales 10000,100000,1000000 --days 365 [--repeat 3]
        [--work-dir data/benchmark] [--memory-limit 8GB] [--spill-limit 1GB] [--markdown]

For each scale, on the same generated data (seed 42, ending the day before --end-date):

    generate     generator time and raw row counts
    full build   `dbt build` (seeds, models, every test) into a fresh warehouse, as of the day
                 before the last day of data: wall time and peak RSS (/usr/bin/time, the dbt
                 process, DuckDB included)
    incremental  then `dbt build` as of the last day: one new day for the incremental facts;
                 wall time and its ratio to the full build
    models only  `dbt run` into a fresh copy of the seeded warehouse, against replaying the
                 same compiled SQL (create table/view as <compiled select>, in dependency
                 order) in one DuckDB connection with the same settings: the ratio is dbt's
                 overhead (per-node work such as contract checks, privacy post-hooks,
                 temporary tables and metadata queries, plus start-up and parsing)
    engine floor one query that reads every raw row once (count and a hash of the first
                 column of every raw table): the practical limit; median of --repeat
    throughput   raw rows / full build wall time

With --spill-limit, the full build of the 100k scale (or the smallest scale above it) runs
again under that DuckDB memory limit, to show that it spills to DUCKDB_TEMP_DIR rather than
failing; its result and the temp space used are recorded.

Writes target/benchmark.json (machine, date, per-scale figures, targets met or not) and, with
--markdown, prints the tables for docs/performance.md. Exit 0 when every run
succeeded (targets missed are reported, not errors), 1 when a run failed, 2 usage.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
from common import (
    KEY_ENV_VAR,
    PROJECT_DIR,
    RAW_TABLES,
    dbt_executable,
    ensure_pseudonym_key,
    setup_logging,
    write_json_atomically,
)

sys.path.append(str(PROJECT_DIR / "plugins"))

from pseudonym_key import Plugin  # noqa: E402

SEED = 42
GIB = 1024**3
TARGETS = {
    "throughput_rows_per_s": 1_000_000,  # full build at 1M customers, raw rows per second
    "dbt_overhead_ratio": 1.3,  # dbt run / replayed SQL
    "incremental_ratio": 0.10,  # incremental build / full build
    "memory_headroom_bytes": GIB,  # peak RSS < DuckDB memory limit + 1 GiB
}


class BenchmarkError(Exception):
    pass


def parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?i?B)\s*", text, re.IGNORECASE)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size like 8GB: {text!r}")
    units = {"b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12}
    units |= {"kib": 1024, "mib": 1024**2, "gib": GIB, "tib": 1024**4}
    return int(float(match.group(1)) * units[match.group(2).lower()])


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
            table: con.execute(
                f"select count(*) from read_parquet('{raw / table}.parquet')"
            ).fetchall()[0][0]
            for table in RAW_TABLES
        }


def engine_floor(raw: Path, repeat: int) -> float:
    """Median seconds of one query that reads every raw row once."""
    with duckdb.connect() as con:
        parts = []
        for table in RAW_TABLES:
            first = con.execute(
                f"describe select * from read_parquet('{raw / table}.parquet')"
            ).fetchall()[0][0]
            parts.append(
                f"select count(*) as n, sum(hash({first})) as h "
                f"from read_parquet('{raw / table}.parquet')"
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


def bench_scale(scale: Scale, days: int, end_date: date, repeat: int) -> dict:
    import generate_data

    logging.info("scale %d customers", scale.customers)
    shutil.rmtree(scale.root, ignore_errors=True)
    scale.raw.mkdir(parents=True)
    started = time.monotonic()
    code = generate_data.main(
        [
            "--customers", str(scale.customers),
            "--days", str(days),
            "--seed", str(SEED),
            "--end-date", end_date.isoformat(),
            "--out", str(scale.raw),
        ]
    )  # fmt: skip
    if code != 0:
        raise BenchmarkError(f"generate_data failed at {scale.customers}")
    generate_s = time.monotonic() - started
    rows = raw_row_counts(scale.raw)
    raw_rows = sum(rows.values())
    logging.info("  %-28s %8.1f s  %d raw rows", "generate", generate_s, raw_rows)

    last_day = end_date - timedelta(days=1)
    day_before = (last_day - timedelta(days=1)).isoformat()

    full_s, full_rss = scale.dbt("full", ["build"], day_before)
    incremental_s, incremental_rss = scale.dbt("full", ["build"], last_day.isoformat())

    scale.dbt("seeded", ["seed"], day_before)
    for name in ("run", "replay"):
        (scale.root / name).mkdir(exist_ok=True)
        shutil.copy(scale.root / "seeded" / "warehouse.duckdb", scale.root / name)
    run_s, run_rss = scale.dbt("run", ["run"], day_before)
    replay_s = replay(scale, scale.root / "run", scale.root / "replay")
    logging.info("  %-28s %8.1f s", "replayed compiled SQL", replay_s)
    floor_s = engine_floor(scale.raw, repeat)
    logging.info("  %-28s %8.2f s (median of %d)", "engine floor", floor_s, repeat)

    return {
        "customers": scale.customers,
        "days": days,
        "raw_rows": raw_rows,
        "raw_rows_by_table": rows,
        "generate_s": round(generate_s, 1),
        "full_build_s": round(full_s, 1),
        "full_build_peak_rss_bytes": full_rss,
        "incremental_build_s": round(incremental_s, 1),
        "incremental_peak_rss_bytes": incremental_rss,
        "incremental_ratio": round(incremental_s / full_s, 3),
        "dbt_run_s": round(run_s, 1),
        "replay_s": round(replay_s, 1),
        "dbt_overhead_ratio": round(run_s / replay_s, 2),
        "engine_floor_s": round(floor_s, 2),
        "full_build_to_floor_ratio": round(full_s / floor_s, 1),
        "throughput_rows_per_s": round(raw_rows / full_s),
    }


def evaluate(results: list[dict], memory_limit: int) -> list[dict]:
    """Each target: met or not, with the figure it was judged on."""
    checks = []
    largest = max(results, key=lambda r: r["customers"])
    checks.append(
        {
            "target": f"full build >= 1M raw rows/s at {largest['customers']:,} customers",
            "value": largest["throughput_rows_per_s"],
            "met": largest["throughput_rows_per_s"] >= TARGETS["throughput_rows_per_s"],
        }
    )
    for result in results:
        checks.append(
            {
                "target": f"dbt overhead <= 1.3x at {result['customers']:,}",
                "value": result["dbt_overhead_ratio"],
                "met": result["dbt_overhead_ratio"] <= TARGETS["dbt_overhead_ratio"],
            }
        )
        checks.append(
            {
                "target": f"daily incremental <= 10% of full at {result['customers']:,}",
                "value": result["incremental_ratio"],
                "met": result["incremental_ratio"] <= TARGETS["incremental_ratio"],
            }
        )
        peak = max(result["full_build_peak_rss_bytes"], result["incremental_peak_rss_bytes"])
        checks.append(
            {
                "target": f"peak RSS < memory limit + 1 GiB at {result['customers']:,}",
                "value": peak,
                "met": peak < memory_limit + TARGETS["memory_headroom_bytes"],
            }
        )
    by_size = {r["customers"]: r for r in results}
    if 100_000 in by_size and 1_000_000 in by_size:
        small, big = by_size[100_000], by_size[1_000_000]
        time_ratio = big["full_build_s"] / small["full_build_s"]
        rows_ratio = big["raw_rows"] / small["raw_rows"]
        checks.append(
            {
                "target": "full build time grows no faster than raw rows, 100k -> 1M",
                "value": round(time_ratio / rows_ratio, 2),
                "met": time_ratio <= rows_ratio,
            }
        )
    return checks


def markdown(report: dict) -> str:
    results = report["scales"]
    header = "| figure | " + " | ".join(f"{r['customers']:,}" for r in results) + " |"
    lines = [header, "|---|" + "---:|" * len(results)]

    def row(label: str, key: str, fmt) -> None:
        lines.append(f"| {label} | " + " | ".join(fmt(r[key]) for r in results) + " |")

    row("raw rows", "raw_rows", lambda v: f"{v:,}")
    row("generate (s)", "generate_s", str)
    row("full build, models + tests (s)", "full_build_s", str)
    row("peak RSS, full build (GB)", "full_build_peak_rss_bytes", lambda v: f"{v / 1e9:.2f}")
    row("throughput (raw rows/s)", "throughput_rows_per_s", lambda v: f"{v:,}")
    row("engine floor, read every raw row once (s)", "engine_floor_s", str)
    row("full build / engine floor", "full_build_to_floor_ratio", lambda v: f"{v}x")
    row("dbt run, models only (s)", "dbt_run_s", str)
    row("same compiled SQL replayed in DuckDB (s)", "replay_s", str)
    row("dbt overhead (run / replay)", "dbt_overhead_ratio", lambda v: f"{v}x")
    row("incremental build, one new day (s)", "incremental_build_s", str)
    row("incremental / full", "incremental_ratio", lambda v: f"{v:.0%}")
    lines.append("")
    lines.append("| target | value | met |")
    lines.append("|---|---:|:---:|")
    for check in report["targets"]:
        value = check["value"]
        shown = f"{value / 1e9:.2f} GB" if value > 1e6 and "RSS" in check["target"] else value
        lines.append(f"| {check['target']} | {shown} | {'yes' if check['met'] else 'no'} |")
    spill = report.get("spill_check")
    if spill:
        lines.append("")
        lines.append(
            f"Spill check: full build at {spill['customers']:,} customers with a "
            f"{spill['memory_limit']} DuckDB memory limit "
            f"{'succeeded' if spill['succeeded'] else 'FAILED'} in {spill['wall_s']} s, "
            f"peak temp space {spill['peak_temp_bytes'] / 1e9:.2f} GB."
        )
    return "\n".join(lines)


def machine() -> dict:
    memory = 0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        match = re.search(r"MemTotal:\s+(\d+) kB", meminfo.read_text())
        memory = int(match.group(1)) * 1024 if match else 0
    return {
        "cpus": os.cpu_count(),
        "memory_bytes": memory,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="10000,100000,1000000")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of the cheap steps")
    parser.add_argument("--end-date", type=date.fromisoformat, default=date.today())
    parser.add_argument("--work-dir", type=Path, default=PROJECT_DIR / "data" / "benchmark")
    parser.add_argument("--memory-limit", default=os.environ.get("DUCKDB_MEMORY_LIMIT", "8GB"))
    parser.add_argument("--spill-limit", help="also build the 100k scale under this limit")
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "target" / "benchmark.json")
    parser.add_argument("--markdown", action="store_true", help="print the Markdown tables")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    try:
        scales = sorted(int(s.replace("_", "")) for s in args.scales.split(","))
        memory_limit = parse_size(args.memory_limit)
    except (ValueError, argparse.ArgumentTypeError) as error:
        parser.error(f"bad --scales or --memory-limit: {error}")
    if not shutil.which("/usr/bin/time"):
        logging.error("/usr/bin/time is needed to measure peak memory (Debian package: time)")
        return 2
    ensure_pseudonym_key()

    results = []
    spill = None
    try:
        for customers in scales:
            scale = Scale(args.work_dir, customers, args.memory_limit)
            results.append(bench_scale(scale, args.days, args.end_date, args.repeat))
            if args.spill_limit and spill is None and customers >= 100_000:
                last_day = args.end_date - timedelta(days=1)
                spill = spill_check(scale, args.spill_limit, last_day.isoformat())
    except BenchmarkError as error:
        logging.error("%s", error)
        return 1
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "memory_limit": args.memory_limit,
        "scales": results,
        "targets": evaluate(results, memory_limit),
        "spill_check": spill,
    }
    write_json_atomically(args.out, report)
    logging.info("results: %s", args.out)
    if args.markdown:
        print(markdown(report))
    return 0 if spill is None or spill["succeeded"] else 1


if __name__ == "__main__":
    sys.exit(main())
