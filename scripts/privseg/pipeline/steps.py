"""The steps of the pipeline: demo data, preflight, build (with compaction), audit, publish, docs.

Each returns an exit code: 0 success; 1 the build, a test or the audit failed (nothing
published); 2 usage or configuration.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from datetime import date
from pathlib import Path

import duckdb

from privseg.audit.context import AuditError
from privseg.audit.runner import BUILD_RESULTS, REPORT, run_audit
from privseg.core.dbt_runner import CRASH_SUMMARY, run_dbt
from privseg.core.failures import dbt_error_line, failed_dbt_nodes, first_line, resource_cause
from privseg.core.keys import ensure_pseudonym_key
from privseg.core.modes import ModeError, PublicationModes, shared_beyond_owner
from privseg.core.settings import PROJECT_DIR, RAW_TABLES, Settings, missing_raw_tables
from privseg.core.warehouse import compact_database, writer_holding
from privseg.datagen.cli import main as generate_raw_data
from privseg.publication.gate import PublishRefused
from privseg.publication.release import publish, storage_version_problem

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
    logging.info(
        "generating demo data (%d customers, %d days) into %s",
        customers,
        DEMO_DAYS,
        settings.raw_data_dir,
    )
    return generate_raw_data(
        [
            "--customers", str(customers),
            "--days", str(DEMO_DAYS),
            "--seed", str(DEMO_SEED),
            "--out", str(settings.raw_data_dir),
        ]
    )  # fmt: skip


def storage_version_refused(settings: Settings) -> bool:
    """Log and return True when DuckDB cannot write PUBLISH_STORAGE_VERSION's format."""
    problem = storage_version_problem(settings.publish_storage_version)
    if problem:
        logging.error("PUBLISH_STORAGE_VERSION: %s", problem)
    return problem is not None


def first_order_date(raw_data_dir: Path) -> date | None:
    """The day of the first order in the raw data (None if none parses)."""
    orders = raw_data_dir / "orders.parquet"
    location = orders / "*.parquet" if orders.is_dir() else orders
    with duckdb.connect() as con:
        (first,) = con.execute(
            "select min(try_cast(ordered_at as timestamp))::date from read_parquet(?)",
            [str(location)],
        ).fetchone()
    return first


def preflight(settings: Settings, as_of: str | None = None) -> int:
    """Before a build: the key, the publication's modes and storage version, writable paths,
    raw tables with the declared columns, and an as-of date not before the first data."""
    if storage_version_refused(settings):
        return 2
    try:
        ensure_pseudonym_key()
    except OSError as error:
        logging.error("cannot read or create the pseudonymization key file: %s", error)
        return 2
    try:
        PublicationModes.resolve(settings.publish_mode, settings.publish_group)
    except ModeError as error:
        logging.error("%s", error)
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
    warn_if_shared(settings.raw_data_dir)
    writer = writer_holding(settings.warehouse_path)
    if writer:
        logging.error(
            "the warehouse %s is open for writing by %s, not a pipeline run (a dbt command by "
            "hand?): let it finish or stop it, then run again",
            settings.warehouse_path,
            writer,
        )
        return 2
    # The columns each source yml declares: checked by the same macro the build runs first.
    done = run_dbt(
        ["run-operation", "check_raw_sources", "--target", settings.target], capture=True
    )
    if done.returncode != 0:
        problems = [
            line.strip(" -")
            for line in done.stdout.splitlines()
            if line.strip().startswith("- raw table")
        ]
        if problems:
            logging.error(
                "raw data in %s does not match the source yml: %s",
                settings.raw_data_dir,
                "; ".join(problems),
            )
        else:
            logging.error(
                "raw data in %s cannot be read: %s",
                settings.raw_data_dir,
                dbt_error_line(done.stdout + done.stderr) or "see the dbt output above",
            )
        return 2
    try:
        first = first_order_date(settings.raw_data_dir) if as_of else None
    except duckdb.Error as error:
        logging.error("raw data in %s cannot be read: %s", settings.raw_data_dir, first_line(error))
        return 2
    if as_of and first and date.fromisoformat(as_of) < first:
        logging.error(
            "--as-of %s is before the first raw data (the first order in %s is of %s): "
            "there is nothing to segment as of then; choose a later date",
            as_of,
            settings.raw_data_dir / "orders.parquet",
            first,
        )
        return 2
    return 0


def warn_if_shared(raw_data_dir: Path) -> None:
    """Raw data is personal data, owner-only (invariant 10). The pipeline creates its own files
    so; raw data it did not create (an export, or demo data from before) may be readable by
    others: say so, with the fix, and go on (the folder is not the pipeline's to change)."""
    loose = shared_beyond_owner([raw_data_dir])
    if loose:
        path, mode = loose[0]
        logging.warning(
            "raw data readable beyond its owner: %d files or folders in %s (e.g. %s, mode %o); "
            "restrict them with: chmod -R go-rwx %s",
            len(loose),
            raw_data_dir,
            path,
            mode,
            raw_data_dir,
        )


def step_build(settings: Settings, as_of: str | None, full_refresh: bool) -> int:
    args = ["build", "--target", settings.target]
    if full_refresh:
        args.append("--full-refresh")
    if as_of:
        args += ["--vars", f"{{as_of: '{as_of}'}}"]
    since = time.time()
    done = run_dbt(args)
    # The build's own results, for the audit and the publication (dbt docs overwrites
    # run_results.json). A failed build records its failures: publish then refuses.
    results = settings.target_dir / "run_results.json"
    if results.exists():
        shutil.copyfile(results, settings.target_dir / BUILD_RESULTS)
    if done.returncode != 0:
        line = build_failure_line(results, since, done.stdout)
        logging.error("%s", line)
        # A raw file that cannot be read (corrupt, unreadable) is the input's fault: exit 2.
        return 2 if str(settings.raw_data_dir) in line else 1
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


def build_failure_line(results: Path, since: float, output: str) -> str:
    """One line for a failed dbt build: the first failing node and its error, or dbt's own
    error (a hook, or a crash: see CrashReports), with the cause when a resource ran out."""
    failed = failed_dbt_nodes(results, since)
    if failed:
        name, message = failed[0]
        more = f" (and {len(failed) - 1} more failing nodes, marked ERROR or FAIL above)"
        detail = f" in {name}: {message}{more if len(failed) > 1 else ''}"
    else:
        crashed = [line for line in output.splitlines() if line.startswith(CRASH_SUMMARY)]
        # A crash names its cause first (a full disk), then dbt's own exit exceptions.
        found = dbt_error_line(output) or next(
            (line for line in crashed if resource_cause(line)), crashed[-1] if crashed else None
        )
        detail = f": {found or 'see the lines marked ERROR above'}"
    cause = resource_cause(detail)
    return (
        f"dbt build failed{' (' + cause + ')' if cause else ''}{detail}; nothing was published "
        "(the previous publication is unchanged)"
    )


def step_audit(settings: Settings) -> int:
    ensure_pseudonym_key()
    try:
        report = run_audit(settings, settings.target_dir / REPORT)
    except AuditError as error:
        logging.error("audit cannot run: %s", error)
        return 2
    return 0 if report["status"] == "pass" else 1


def read_json(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


def step_publish(settings: Settings) -> int:
    manifest = read_json(settings.target_dir / "manifest.json")
    results = read_json(settings.target_dir / BUILD_RESULTS)
    if manifest is None or results is None:
        logging.error("no build to publish in %s: run pipeline.py build", settings.target_dir)
        return 2
    if storage_version_refused(settings):
        return 2
    audit = read_json(settings.target_dir / REPORT)
    try:
        modes = PublicationModes.resolve(settings.publish_mode, settings.publish_group)
    except ModeError as error:
        logging.error("%s", error)
        return 2
    try:
        released = publish(
            settings.warehouse_path,
            settings.publish_dir,
            manifest,
            results,
            audit,
            modes,
            storage_version=settings.publish_storage_version,
        )
    except PublishRefused as error:
        logging.error("nothing published (the previous publication stays): %s", error)
        return 1
    # Let the publication's group reach it through the project's folders (search, not list).
    modes.open_path_to(settings.publish_dir, PROJECT_DIR)
    logging.info(
        "published release %s to %s (%s: folders %o, files %o)",
        released["release"],
        settings.publish_dir / "current",
        modes.mode,
        modes.directory,
        modes.file,
    )
    return 0


def step_docs(settings: Settings) -> int:
    ensure_pseudonym_key()  # dbt's profile loads the plugin, which needs the key
    if run_dbt(["docs", "generate", "--static", "--target", settings.target]).returncode != 0:
        logging.error("dbt docs generate failed")
        return 1
    logging.info("docs: %s (one file, opens offline)", settings.target_dir / "static_index.html")
    return 0
