"""Generate deterministic synthetic raw data for the online-shop project.

Usage:
    python scripts/generate_data.py --customers N --days D --seed S \
        [--faults RATE] [--end-date YYYY-MM-DD] \
        [--layout single|partitioned [--hold-back-days K]] --out DIR
    python scripts/generate_data.py --append-day --out DIR

Writes one Parquet file per raw table (``DIR/<table>.parquet``, every column VARCHAR, exactly
as a source system would export text) plus ``DIR/generation_manifest.json``, readable by their
owner only (mode 600; DIR 700 when created): raw data is personal data. The data ends the day
before --end-date (default today, UTC).

--layout partitioned writes each table as one folder per load day instead,
``DIR/<table>/load_date=YYYY-MM-DD/part-0.parquet``, with late rows in later loads
(privseg.datagen.loads); --hold-back-days K leaves the last K loads unwritten, and --append-day
adds the next load to such a folder, from the same generation as the manifest records it.

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
from datetime import UTC, date, datetime, timedelta
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
from privseg.datagen.loads import (
    assign_loads,
    last_possible_load,
    load_counts,
    write_loads,
)
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
        "--customers", type=int, metavar="N", help="number of customers (N >= 1; required)"
    )
    parser.add_argument(
        "--days",
        type=int,
        metavar="D",
        help="length of the behavioural window in days (1..3650; required)",
    )
    parser.add_argument(
        "--seed", type=int, metavar="S", help="random seed (integer >= 0; required)"
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
    parser.add_argument(
        "--layout",
        choices=("single", "partitioned"),
        default="single",
        help="single: DIR/<table>.parquet (default); partitioned: "
        "DIR/<table>/load_date=YYYY-MM-DD/part-0.parquet, one folder per load day",
    )
    parser.add_argument(
        "--hold-back-days",
        type=int,
        default=0,
        metavar="K",
        help="partitioned: leave the last K loads unwritten, for --append-day (default 0)",
    )
    parser.add_argument(
        "--append-day",
        action="store_true",
        help="add the next load day to the partitioned folder DIR, from the generation its "
        "manifest records (no other arguments)",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    return parser


def read_manifest(parser: argparse.ArgumentParser, out: Path) -> dict[str, object]:
    """The manifest of a partitioned folder, for --append-day; exits 2 naming what is wrong."""
    path = out / MANIFEST
    if not path.is_file():
        parser.error(f"--append-day: {path} not found; generate with --layout partitioned first")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        parser.error(f"--append-day: cannot read {path}: {exc}")
    if manifest.get("layout") != "partitioned":
        parser.error(
            f"--append-day: {out} holds the single-file layout; only a folder written with "
            "--layout partitioned can get another load day"
        )
    return manifest


def validate(parser: argparse.ArgumentParser, ns: argparse.Namespace) -> tuple[Parameters, Path]:
    """Check argument ranges; ``parser.error`` exits with status 2 and a clear message."""
    if ns.append_day:
        given = [
            name
            for name, value in (
                ("--customers", ns.customers),
                ("--days", ns.days),
                ("--seed", ns.seed),
                ("--end-date", ns.end_date),
            )
            if value is not None
        ]
        if given or ns.faults or ns.hold_back_days or ns.layout != "single":
            parser.error(
                "--append-day takes only --out: the generation's arguments come from its "
                f"manifest (got {', '.join(given) or 'other arguments'})"
            )
        manifest = read_manifest(parser, Path(ns.out))
        ns.customers, ns.days, ns.seed = (
            manifest["customers"],
            manifest["days"],
            manifest["seed"],
        )
        ns.faults, ns.end_date = manifest["fault_rate"], manifest["end_date"]
    for name, value in (("--customers", ns.customers), ("--days", ns.days), ("--seed", ns.seed)):
        if value is None:
            parser.error(f"the following argument is required: {name}")
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
    if ns.hold_back_days < 0 or ns.hold_back_days > ns.days:
        parser.error(
            f"--hold-back-days: K must be between 0 and --days ({ns.days}) "
            f"(got {ns.hold_back_days})"
        )
    if ns.hold_back_days and ns.layout != "partitioned":
        parser.error("--hold-back-days needs --layout partitioned")
    out = Path(ns.out)
    if out.exists() and not out.is_dir():
        parser.error(f"--out: {out} exists and is not a directory")
    return Parameters(ns.customers, ns.days, ns.seed, ns.faults, end), out


def generate(
    params: Parameters,
    out: Path,
    layout: str = "single",
    hold_back_days: int = 0,
    append_day: bool = False,
) -> dict[str, object]:
    """Generate every table into a temp folder next to `out`, then move the files in place;
    every folder and file it creates is owner-only (invariant 10). With append_day, only the
    next load of the partitioned folder `out` is written."""
    with owner_only():
        return _generate(params, out, layout, hold_back_days, append_day)


def _loads_to_write(
    params: Parameters, out: Path, hold_back_days: int, append_day: bool
) -> tuple[date, date, date]:
    """(first load of the folder, first and last load to write now)."""
    first = params.end_date - timedelta(days=params.days)
    if not append_day:
        return first, first, params.end_date - timedelta(days=hold_back_days)
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    day = date.fromisoformat(str(manifest["loaded_through"])) + timedelta(days=1)
    if day > last_possible_load(params.end_date):
        raise RuntimeError(
            f"no load after {manifest['loaded_through']} in this generation (its data ends "
            f"{params.end_date - timedelta(days=1)}, late rows land by "
            f"{last_possible_load(params.end_date)}); generate again with a later --end-date "
            "and --hold-back-days"
        )
    for table in RAW_COLUMNS:
        if (out / table / f"load_date={day.isoformat()}").exists():
            raise RuntimeError(
                f"{out / table / f'load_date={day.isoformat()}'} exists though the manifest "
                f"says the folder is loaded through {manifest['loaded_through']}; remove it or "
                "generate the folder again"
            )
    return first, day, day


def _generate(
    params: Parameters, out: Path, layout: str, hold_back_days: int, append_day: bool
) -> dict[str, object]:
    partitioned = layout == "partitioned" or append_day
    out.mkdir(parents=True, exist_ok=True)
    first, write_from, write_to = (
        _loads_to_write(params, out, hold_back_days, append_day)
        if partitioned
        else (None, None, None)
    )
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
            if partitioned:
                assert first is not None and write_from is not None and write_to is not None
                assign_loads(workspace, table, workspace.rows_query(table))
                total = write_loads(workspace, table, tmp / table, write_from, write_to)
                counts = load_counts(workspace, table, first, write_to)
                tables[table] = counts
                clean, faults = int(counts["rows_clean"]), dict(counts["faults"])  # type: ignore[call-overload]
                expected = int(load_counts(workspace, table, write_from, write_to)["rows_total"])  # type: ignore[call-overload]
                if total != expected:
                    raise RuntimeError(f"row count mismatch for {table}")
            else:
                total = workspace.write(table, tmp / f"{table}.parquet")
                if total != clean + sum(faults.values()):
                    raise RuntimeError(f"row count mismatch for {table}")
                tables[table] = {"rows_clean": clean, "rows_total": total, "faults": faults}
            log(
                f"table={table} rows={total} (clean={clean}, faulty={total - clean}) "
                f"seconds={time.perf_counter() - started:.1f}"
                if not partitioned
                else f"table={table} rows written={total} "
                f"(loads {write_from}..{write_to}) seconds={time.perf_counter() - started:.1f}"
            )
        manifest: dict[str, object] = {
            "generator": "scripts/generate_data.py",
            "seed": params.seed,
            "customers": params.customers,
            "days": params.days,
            "end_date": params.end_date.isoformat(),
            "fault_rate": params.fault_rate,
            "layout": "partitioned" if partitioned else "single",
        }
        if partitioned:
            assert first is not None and write_to is not None
            manifest["first_load"] = first.isoformat()
            manifest["loaded_through"] = write_to.isoformat()
        manifest["tables"] = tables
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        for table in RAW_COLUMNS:
            if append_day:
                _move_loads(tmp / table, out / table)
            elif partitioned:
                _remove(out / f"{table}.parquet")
                _remove(out / table)
                if (tmp / table).exists():
                    os.replace(tmp / table, out / table)
            else:
                _remove(out / table)
                os.replace(tmp / f"{table}.parquet", out / f"{table}.parquet")
        os.replace(tmp / MANIFEST, out / MANIFEST)
        log(
            f"done: {len(RAW_COLUMNS)} tables in {out} "
            + (f"loaded through {write_to} " if partitioned else "")
            + f"seconds={time.perf_counter() - started_all:.1f}"
        )
        return manifest
    finally:
        con.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _remove(path: Path) -> None:
    """Remove a raw table written before in the other layout (a file or a folder)."""
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def _move_loads(written: Path, table_folder: Path) -> None:
    """Move the load folders written for one table into its folder (--append-day)."""
    if not written.exists():
        return  # no row of this table lands on the day
    table_folder.mkdir(exist_ok=True)
    for load in sorted(written.iterdir()):
        os.replace(load, table_folder / load.name)


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
        generate(params, out, ns.layout, ns.hold_back_days, ns.append_day)
    except (duckdb.Error, OSError, RuntimeError) as exc:
        log(f"error: {type(exc).__name__}: {exc}")
        return 1
    return 0
