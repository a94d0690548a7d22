"""Generate deterministic synthetic raw data for the online-shop project.

Usage:
    python scripts/generate_data.py --customers N --days D --seed S \
        [--faults RATE] [--end-date YYYY-MM-DD] --out DIR

Writes one Parquet file per raw table (``DIR/<table>.parquet``, every column VARCHAR, exactly
as a source system would export text) plus ``DIR/generation_manifest.json``, readable by their
owner only (mode 600; DIR 700 when created): raw data is personal data. The data ends the day
before --end-date (default today, UTC).

Exit codes: 0 ok, 1 unexpected failure, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from privseg.core.modes import owner_only
from privseg.datagen.campaigns import build_campaigns, build_email_events
from privseg.datagen.consent_events import build_consent_events
from privseg.datagen.contract import RAW_COLUMNS
from privseg.datagen.customers import build_customers
from privseg.datagen.erasure_requests import build_erasure_requests
from privseg.datagen.faults import inject_faults
from privseg.datagen.functions import create_functions
from privseg.datagen.lookups import create_lookups
from privseg.datagen.orders import build_orders
from privseg.datagen.parameters import Parameters
from privseg.datagen.preferences import build_preferences
from privseg.datagen.products import build_products
from privseg.datagen.web_events import build_web_events
from privseg.datagen.workspace import Workspace

MANIFEST = "generation_manifest.json"

# Each raw table in writing order, with what builds it (orders builds order_items too).
BUILD_PLAN: list[tuple[str, Callable[[Workspace], None] | None]] = [
    ("customers", build_customers),
    ("products", build_products),
    ("orders", build_orders),
    ("order_items", None),
    ("web_events", build_web_events),
    ("campaigns", build_campaigns),
    ("email_events", build_email_events),
    ("consent_events", build_consent_events),
    ("preferences", build_preferences),
    ("erasure_requests", build_erasure_requests),
]


def log(message: str) -> None:
    print(f"[generate_data] {message}", file=sys.stderr, flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="generate_data.py",
        description="Generate deterministic synthetic raw shop data as Parquet (all VARCHAR).",
    )
    parser.add_argument(
        "--customers", type=int, required=True, metavar="N", help="number of customers (N >= 1)"
    )
    parser.add_argument(
        "--days",
        type=int,
        required=True,
        metavar="D",
        help="length of the behavioural window in days (1..3650)",
    )
    parser.add_argument(
        "--seed", type=int, required=True, metavar="S", help="random seed (integer >= 0)"
    )
    parser.add_argument(
        "--faults",
        type=float,
        default=0.0,
        metavar="RATE",
        help="fault rate in [0, 1]: faulty rows added per table (default 0)",
    )
    parser.add_argument(
        "--end-date",
        default=None,
        metavar="YYYY-MM-DD",
        help="data ends the day before this date (default: today, UTC)",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    return parser


def validate(parser: argparse.ArgumentParser, ns: argparse.Namespace) -> tuple[Parameters, Path]:
    """Check argument ranges; ``parser.error`` exits with status 2 and a clear message."""
    if ns.customers < 1:
        parser.error(f"--customers: N must be >= 1 (got {ns.customers})")
    if ns.customers > 50_000_000:
        parser.error(f"--customers: N must be <= 50000000 (got {ns.customers})")
    if not 1 <= ns.days <= 3650:
        parser.error(f"--days: D must be between 1 and 3650 (got {ns.days})")
    if ns.seed < 0 or ns.seed >= 2**63:
        parser.error(f"--seed: S must be an integer in [0, 2^63) (got {ns.seed})")
    if not (math.isfinite(ns.faults) and 0.0 <= ns.faults <= 1.0):
        parser.error(f"--faults: RATE must be between 0 and 1 (got {ns.faults})")
    if ns.end_date is None:
        end = datetime.now(UTC).date()
    else:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", ns.end_date):
            parser.error(f"--end-date: expected YYYY-MM-DD (got {ns.end_date!r})")
        try:
            end = date.fromisoformat(ns.end_date)
        except ValueError:
            parser.error(f"--end-date: not a valid date (got {ns.end_date!r})")
        if not 1900 <= end.year <= 2999:
            parser.error(f"--end-date: year must be between 1900 and 2999 (got {end.year})")
    out = Path(ns.out)
    if out.exists() and not out.is_dir():
        parser.error(f"--out: {out} exists and is not a directory")
    return Parameters(ns.customers, ns.days, ns.seed, ns.faults, end), out


def generate(params: Parameters, out: Path) -> dict[str, object]:
    """Generate every table into a temp folder next to `out`, then move the files in place;
    every folder and file it creates is owner-only (invariant 10)."""
    with owner_only():
        return _generate(params, out)


def _generate(params: Parameters, out: Path) -> dict[str, object]:
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.resolve().parent))
    con = duckdb.connect(":memory:")
    try:
        spill = str(tmp / "duckdb_spill").replace("'", "''")
        con.execute(f"set temp_directory = '{spill}'").fetchall()
        started_all = time.perf_counter()
        create_functions(con, params.seed)
        workspace = Workspace(con, params, area_counts=create_lookups(con, params))
        tables: dict[str, object] = {}
        for table, build in BUILD_PLAN:
            started = time.perf_counter()
            if build is not None:
                build(workspace)
            faults = inject_faults(workspace, table)
            clean = workspace.count(f"compact_{table}")
            total = workspace.write(table, tmp / f"{table}.parquet")
            if total != clean + sum(faults.values()):
                raise RuntimeError(f"row count mismatch for {table}")
            tables[table] = {"rows_clean": clean, "rows_total": total, "faults": faults}
            log(
                f"table={table} rows={total} (clean={clean}, faulty={total - clean}) "
                f"seconds={time.perf_counter() - started:.1f}"
            )
        manifest: dict[str, object] = {
            "generator": "scripts/generate_data.py",
            "seed": params.seed,
            "customers": params.customers,
            "days": params.days,
            "end_date": params.end_date.isoformat(),
            "fault_rate": params.fault_rate,
            "tables": tables,
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        for table in RAW_COLUMNS:
            os.replace(tmp / f"{table}.parquet", out / f"{table}.parquet")
        os.replace(tmp / MANIFEST, out / MANIFEST)
        log(
            f"done: {len(RAW_COLUMNS)} tables in {out} "
            f"seconds={time.perf_counter() - started_all:.1f}"
        )
        return manifest
    finally:
        con.close()
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the process exit code (0 ok, 1 failure, 2 bad arguments)."""
    parser = build_parser()
    try:
        ns = parser.parse_args(argv)
        params, out = validate(parser, ns)
    except SystemExit as exc:  # argparse reports usage errors via SystemExit(2)
        return int(exc.code) if isinstance(exc.code, int) else 2
    log(
        f"customers={params.customers} days={params.days} seed={params.seed} "
        f"faults={params.fault_rate} end_date={params.end_date} out={out}"
    )
    try:
        generate(params, out)
    except (duckdb.Error, OSError, RuntimeError) as exc:
        log(f"error: {type(exc).__name__}: {exc}")
        return 1
    return 0
