"""Benchmark the build at growing scale: full, models only, replayed SQL, incremental, floor.

    python scripts/benchmark.py --scales 10000,100000,1000000 --days 365 [--repeat 3]
        [--layout partitioned|single] [--work-dir data/benchmark] [--memory-limit 8GB]
        [--spill-limit 1GB] [--markdown]

For each scale, on the same generated data (seed 42):

    generate     generator time and raw row counts
    full build   `dbt build` (seeds, models, every test) into a fresh warehouse: wall time,
                 peak RSS (/usr/bin/time, the dbt process, DuckDB included) and node time by
                 layer (target/run_results.json). Layout partitioned (default): one folder per
                 load day, the last load held back, as of the day before it; layout single:
                 one file per table, as of the day before the last day of data
    incremental  then `dbt build` as of the next day, after `generate_data.py --append-day`
                 delivered its load (partitioned; single: no new file, the facts' new day
                 only): wall time, node time by layer, and their ratios to the full build
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
--markdown, prints the table for docs/performance.md. Exit 0 when every run succeeded (targets
missed are reported, not errors), 1 when a run failed, 2 usage.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from privseg.benchmark.runs import LAYOUTS, BenchmarkError, Scale, bench_scale, spill_check
from privseg.benchmark.targets import GIB, evaluate, machine, markdown
from privseg.core.files import write_json_atomically
from privseg.core.keys import ensure_pseudonym_key
from privseg.core.logs import setup_logging
from privseg.core.settings import PROJECT_DIR


def parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?i?B)\s*", text, re.IGNORECASE)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size like 8GB: {text!r}")
    units = {"b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12}
    units |= {"kib": 1024, "mib": 1024**2, "gib": GIB, "tib": 1024**4}
    return int(float(match.group(1)) * units[match.group(2).lower()])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="10000,100000,1000000")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument(
        "--layout",
        choices=LAYOUTS,
        default="partitioned",
        help="raw data in one folder per load day, the last one delivered before the "
        "incremental build (default), or one file per table",
    )
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of the cheap steps")
    parser.add_argument("--end-date", type=date.fromisoformat, default=date.today())
    parser.add_argument("--work-dir", type=Path, default=PROJECT_DIR / "data" / "benchmark")
    parser.add_argument("--memory-limit", default=os.environ.get("DUCKDB_MEMORY_LIMIT", "8GB"))
    parser.add_argument(
        "--skip-overhead",
        action="store_true",
        help="leave out the dbt run and its replayed SQL (the dbt overhead figure), two more "
        "builds' time at each scale",
    )
    parser.add_argument(
        "--spark",
        action="store_true",
        help="also build the models ported to Spark (selector spark) on DuckDB and on a local "
        "Spark session from the same data (needs .venv-spark, docs/spark.md)",
    )
    parser.add_argument("--spill-limit", help="also build the 100k scale under this limit")
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "target" / "benchmark.json")
    parser.add_argument(
        "--markdown", action="store_true", help="print the results table (docs/performance.md)"
    )
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
            results.append(
                bench_scale(
                    scale,
                    args.days,
                    args.end_date,
                    args.repeat,
                    args.layout,
                    overhead=not args.skip_overhead,
                    spark=args.spark,
                )
            )
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
