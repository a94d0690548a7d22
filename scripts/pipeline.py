"""One command for the whole job: demo data, build, audit, publish, docs; each step on its own.

    python scripts/pipeline.py run        # all of the below, in this order
    python scripts/pipeline.py generate   # demo data into RAW_DATA_DIR if it has none
    python scripts/pipeline.py build      # preflight, dbt build (models + every test), compaction
    python scripts/pipeline.py audit      # scripts/audit_privacy.py on the build
    python scripts/pipeline.py publish    # published models -> PUBLISH_DIR (publication.py)
    python scripts/pipeline.py docs       # dbt docs generate --static -> one offline HTML file

Write, audit, publish: nothing reaches PUBLISH_DIR unless every dbt test of the build and the
privacy audit of that build passed; BI readers keep the previous publication until then.

Exit codes: 0 success; 1 the build, a test or the audit failed (nothing published); 2 usage
or configuration (missing raw tables or columns, unwritable paths, bad key).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import time
from collections.abc import Callable

import audit_privacy
import duckdb
import publication
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


def preflight(settings: Settings) -> int:
    """Before a build: the key, writable paths, and raw tables with the declared columns."""
    try:
        ensure_pseudonym_key()
    except OSError as error:
        logging.error("cannot read or create the pseudonymization key file: %s", error)
        return 2
    for what, folder in (
        ("warehouse", settings.warehouse_path.parent),
        ("publication", settings.publish_dir),
        ("dbt target", settings.target_dir),
        ("dbt log", settings.log_dir),
    ):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            logging.error("%s folder %s cannot be created: %s", what, folder, error.strerror)
            return 2
        if not os.access(folder, os.W_OK):
            logging.error("%s folder %s is not writable: fix its permissions", what, folder)
            return 2
    missing = missing_raw_tables(settings.raw_data_dir)
    if missing:
        logging.error(
            "raw tables missing in %s: %s. Run `python scripts/pipeline.py generate` "
            "or set RAW_DATA_DIR.",
            settings.raw_data_dir,
            ", ".join(missing),
        )
        return 2
    # The columns each source yml declares: checked by the same macro the build runs first.
    done = run_dbt(
        ["run-operation", "check_raw_sources", "--target", settings.target], capture=True
    )
    if done.returncode != 0:
        problems = [line for line in done.stdout.splitlines() if "raw table" in line]
        logging.error(
            "raw data in %s does not match the source yml:\n%s",
            settings.raw_data_dir,
            "\n".join(problems) or done.stdout[-2000:],
        )
        return 2
    return 0


def step_build(settings: Settings, as_of: str | None, full_refresh: bool) -> int:
    args = ["build", "--target", settings.target]
    if full_refresh:
        args.append("--full-refresh")
    if as_of:
        args += ["--vars", f"{{as_of: '{as_of}'}}"]
    code = run_dbt(args).returncode
    # The build's own results, for the audit and the publication (dbt docs overwrites
    # run_results.json). A failed build records its failures: publish then refuses.
    results = settings.target_dir / "run_results.json"
    if results.exists():
        shutil.copyfile(results, settings.target_dir / audit_privacy.BUILD_RESULTS)
    if code != 0:
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


def step_audit(settings: Settings) -> int:
    ensure_pseudonym_key()
    try:
        report = audit_privacy.run_audit(settings, settings.target_dir / audit_privacy.REPORT)
    except audit_privacy.AuditError as error:
        logging.error("audit cannot run: %s", error)
        return 2
    return 0 if report["status"] == "pass" else 1


def _read(path) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


def step_publish(settings: Settings) -> int:
    manifest = _read(settings.target_dir / "manifest.json")
    results = _read(settings.target_dir / audit_privacy.BUILD_RESULTS)
    if manifest is None or results is None:
        logging.error("no build to publish in %s: run pipeline.py build", settings.target_dir)
        return 2
    audit = _read(settings.target_dir / audit_privacy.REPORT)
    try:
        released = publication.publish(
            settings.warehouse_path, settings.publish_dir, manifest, results, audit
        )
    except publication.PublishRefused as error:
        logging.error("nothing published (the previous publication stays): %s", error)
        return 1
    logging.info(
        "published release %s to %s", released["release"], settings.publish_dir / "current"
    )
    return 0


def step_docs(settings: Settings) -> int:
    ensure_pseudonym_key()  # dbt's profile loads the plugin, which needs the key
    if run_dbt(["docs", "generate", "--static", "--target", settings.target]).returncode != 0:
        logging.error("dbt docs generate failed")
        return 1
    logging.info("docs: %s (one file, opens offline)", settings.target_dir / "static_index.html")
    return 0


def print_summary(settings: Settings) -> None:
    """Where everything is, and what the build, the audit and the publication hold."""
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
        risks = {
            row[0]: row[1:]
            for row in con.sql(
                "select table_name, k, max_prosecutor_risk, suppressed_records, suppressed_cells "
                "from segments.rpt_reidentification_risk"
            ).fetchall()
        }
    audit = _read(settings.target_dir / audit_privacy.REPORT)
    published = publication.read_publication(settings.publish_dir)
    docs = settings.target_dir / "static_index.html"

    print(f"warehouse:   {settings.warehouse_path}")
    print(f"raw data:    {settings.raw_data_dir}")
    print(
        f"dbt output:  {settings.target_dir} (run_results.json, manifest.json), {settings.log_dir}"
    )
    if audit:
        failing = [c["name"] for c in audit["checks"] if c["status"] != "pass"]
        print(
            f"audit:       {audit['status']}"
            + (f" ({', '.join(failing)})" if failing else "")
            + f", report {settings.target_dir / audit_privacy.REPORT}"
            + f" and {(settings.target_dir / audit_privacy.REPORT).with_suffix('.html')}"
        )
    if docs.exists():
        print(f"docs:        {docs} (one file, opens offline)")
    if published:
        print(
            f"published:   {settings.publish_dir / publication.DATABASE} and "
            f"{settings.publish_dir / publication.PARQUET}/ (release {published['release']}, "
            f"as of {published['as_of_date']})"
        )
        for table in published["tables"]:
            k, risk, records, cells = risks.get(table["model"], (None, None, None, None))
            print(
                f"  {table['model']:<22} {table['rows']:>8} rows, k={k}, max risk {risk}, "
                f"withheld {records} records in {cells} cells"
            )
    else:
        print(f"published:   nothing yet in {settings.publish_dir}")
    total = sum(r[2] for r in rows)
    print(f"quarantine:  {total} rejected raw rows (staging.stg_quarantine__rejected_rows)")
    for table, reason, count in rows:
        print(f"  {table:<18} {reason:<22} {count:>8}")
    print(
        f"consent:     subjects in scope of {customers} customers (consent.int_consented_subjects)"
    )
    for purpose, count in in_scope:
        print(f"  {purpose:<18} {count:>8}")
    print(f"erasure:     {erasures} requests fulfilled, {overdue} after their deadline")
    print("segments:    members per segment (segments.fct_segment_membership)")
    for segment, count in segments:
        print(f"  {segment:<26} {count:>8}")


STEPS = ("generate", "build", "audit", "publish", "docs")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["run", *STEPS])
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

    plan: dict[str, Callable[[], int]] = {
        "generate": lambda: step_generate(settings, args.demo_customers, args.force),
        "preflight": lambda: preflight(settings),
        "build": lambda: step_build(settings, args.as_of, args.full_refresh),
        "audit": lambda: step_audit(settings),
        "publish": lambda: step_publish(settings),
        "docs": lambda: step_docs(settings),
    }
    if args.step == "run":
        names = ["generate", "preflight", "build", "audit", "publish", "docs"]
    elif args.step == "build":
        names = ["preflight", "build"]
    else:
        names = [args.step]

    started_all = time.monotonic()
    for position, name in enumerate(names, start=1):
        started = time.monotonic()
        logging.info("step %d/%d %s: started", position, len(names), name)
        code = plan[name]()
        logging.info(
            "step %d/%d %s: %s in %.1f s",
            position,
            len(names),
            name,
            "ok" if code == 0 else "FAILED",
            time.monotonic() - started,
        )
        if code != 0:
            if name in ("build", "audit"):
                logging.error("nothing was published; the previous publication is unchanged")
            return code
    logging.info("done in %.1f s", time.monotonic() - started_all)
    if args.step in ("run", "build", "publish") and settings.warehouse_path.exists():
        print_summary(settings)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
