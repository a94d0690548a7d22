"""Run the pipeline: make demo data if there is none, then build the warehouse.

    python scripts/pipeline.py run        # generate (if needed) + build
    python scripts/pipeline.py generate   # demo data into RAW_DATA_DIR if missing
    python scripts/pipeline.py build      # dbt build (seeds, models, tests), then compaction

Exit codes: 0 success, 1 the build or its tests failed, 2 usage or configuration.
"""

from __future__ import annotations

import argparse
import logging
import time

import duckdb
from common import (
    RAW_TABLES,
    Settings,
    compact_database,
    ensure_pseudonym_key,
    missing_raw_tables,
    run_dbt,
    setup_logging,
)

DEMO_CUSTOMERS = 10_000
DEMO_DAYS = 365
DEMO_SEED = 42


def step_generate(settings: Settings, customers: int, force: bool = False) -> int:
    missing = missing_raw_tables(settings.raw_data_dir)
    if not missing and not force:
        logging.info("raw data found in %s; not generating", settings.raw_data_dir)
        return 0
    if missing and len(missing) < len(RAW_TABLES):
        # Never overwrite someone's partial real export with demo data.
        logging.error(
            "raw data in %s is incomplete: missing %s. Add those tables, point "
            "RAW_DATA_DIR elsewhere, or empty the folder to get demo data.",
            settings.raw_data_dir,
            ", ".join(missing),
        )
        return 2
    import generate_data

    logging.info(
        "generating demo data (%d customers, %d days) into %s",
        customers,
        DEMO_DAYS,
        settings.raw_data_dir,
    )
    return generate_data.main(
        [
            "--customers", str(customers),
            "--days", str(DEMO_DAYS),
            "--seed", str(DEMO_SEED),
            "--out", str(settings.raw_data_dir),
        ]
    )  # fmt: skip


def step_build(settings: Settings, as_of: str | None, full_refresh: bool) -> int:
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    ensure_pseudonym_key()
    args = ["build", "--target", settings.target]
    if full_refresh:
        args.append("--full-refresh")
    if as_of:
        args += ["--vars", f"{{as_of: '{as_of}'}}"]
    if run_dbt(args).returncode != 0:
        logging.error("dbt build failed: see the lines marked ERROR or FAIL above")
        return 1
    started = time.monotonic()
    before, after = compact_database(settings.warehouse_path)
    logging.info(
        "compacted %s: %.1f MB -> %.1f MB in %.1f s (no deleted data left in the file)",
        settings.warehouse_path,
        before / 1e6,
        after / 1e6,
        time.monotonic() - started,
    )
    return 0


def print_summary(settings: Settings) -> None:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rows = con.sql(
            "select source_table, reject_reason, rejected_row_count "
            "from staging.stg_quarantine__summary order by 1, 2"
        ).fetchall()
        in_scope = con.sql(
            "select consent_purpose, count(*) from consent.int_consented_subjects "
            "group by 1 order by 1"
        ).fetchall()
        (customers,) = con.sql(
            "select count(*) from pseudonymized.int_customers_pseudonymized"
        ).fetchall()[0]
        erasures, overdue = con.sql(
            "select count(*), count(*) filter (where is_overdue) from consent.int_erasure_log"
        ).fetchall()[0]
        segments = con.sql(
            "select segment_name, count(*) from segments.fct_segment_membership "
            "group by 1 order by 1"
        ).fetchall()
        risks = con.sql(
            "select table_name, records, suppressed_records, suppressed_cells, k, "
            "max_prosecutor_risk from segments.rpt_reidentification_risk order by 1"
        ).fetchall()
    print(f"warehouse:  {settings.warehouse_path}")
    print(f"raw data:   {settings.raw_data_dir}")
    print("dbt output: target/ (run_results.json, manifest.json), logs/dbt.log")
    total = sum(r[2] for r in rows)
    print(f"quarantine: {total} rejected raw rows (staging.stg_quarantine__rejected_rows)")
    for table, reason, count in rows:
        print(f"  {table:<18} {reason:<22} {count:>8}")
    print(
        f"consent:    subjects in scope of {customers} customers (consent.int_consented_subjects)"
    )
    for purpose, count in in_scope:
        print(f"  {purpose:<18} {count:>8}")
    print(f"erasure:    {erasures} requests fulfilled, {overdue} after their deadline")
    print("segments:   members per segment (segments.fct_segment_membership)")
    for segment, count in segments:
        print(f"  {segment:<26} {count:>8}")
    print("published:  k-anonymous tables (segments.rpt_reidentification_risk)")
    for table, records, suppressed, cells, k, risk in risks:
        print(
            f"  {table:<22} {records:>8} records, k={k}, max risk {risk}, "
            f"withheld {suppressed} records in {cells} cells"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["run", "generate", "build"])
    parser.add_argument("--as-of", help="ISO date the run is as of (dbt var as_of)")
    parser.add_argument("--force", action="store_true", help="generate even if raw data exists")
    parser.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild every table from raw (needed after a key rotation)",
    )
    parser.add_argument(
        "--demo-customers",
        type=int,
        default=DEMO_CUSTOMERS,
        help=f"customers in generated demo data (default {DEMO_CUSTOMERS})",
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    settings = Settings.from_env()
    settings.export()

    steps: list[tuple[str, object]] = []
    if args.step in ("run", "generate"):
        steps.append(("generate", lambda: step_generate(settings, args.demo_customers, args.force)))
    if args.step in ("run", "build"):
        missing = missing_raw_tables(settings.raw_data_dir)
        if missing and args.step == "build":
            logging.error(
                "raw tables missing in %s: %s. Run `python scripts/pipeline.py generate` "
                "or set RAW_DATA_DIR.",
                settings.raw_data_dir,
                ", ".join(missing),
            )
            return 2
        steps.append(("build", lambda: step_build(settings, args.as_of, args.full_refresh)))

    for name, step in steps:
        started = time.monotonic()
        logging.info("step %s: started", name)
        code = step()  # type: ignore[operator]
        logging.info(
            "step %s: %s in %.1f s",
            name,
            "ok" if code == 0 else "FAILED",
            time.monotonic() - started,
        )
        if code != 0:
            return code
    if args.step in ("run", "build"):
        print_summary(settings)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
