"""Answer a right of access request: everything the warehouse holds about one customer.

    python scripts/subject_access.py --customer-id 1234 --out requests/2026-12-02-0001 \
        [--wait SECONDS]

A privacy officer runs it for a data subject's request (GDPR art. 15, CCPA right to know).
The customer id is turned into the customer's pseudonym with the build's key (the same HMAC
the build uses, docs/architecture.md); every table past staging whose yml classifies a column
as that pseudonym is searched (privseg.access.discovery), then the rows linked to it by another
pseudonym (an order's lines). Nothing is hard-coded per table: a new model is covered by its
yml.

Inputs (read-only):
    WAREHOUSE_PATH (default data/warehouse.duckdb) and the build's dbt manifest
    (DBT_TARGET_PATH, default target/manifest.json), built by `make run`.
    DBT_ENV_SECRET_PSEUDONYM_KEY, or else the key file (PSEUDONYM_KEY_FILE, default
    .secrets/pseudonym.key): the key the warehouse was built with. It is never created here,
    never printed or logged.

Outputs in --out (created, mode 700, if missing), both written atomically, mode 600:
    subject_access.json   machine-readable: every row held, table by table, with each column's
                          meaning and category, the purposes, legal bases, retention and
                          recipients (the audit's Record of Processing Activities), the
                          published tables that could count the person in aggregate
    subject_access.html   the same in plain language, one page that opens offline

The request is logged, not its contents: one line per request in LOG_DIR/subject_access.log
(DBT_LOG_PATH, default logs/) with a random request id, the time, the build's as-of date and
key fingerprint. Nothing printed or logged names the person (no id, pseudonym or value).

Exit codes: 0 report written (also when nothing is held); 1 reading the warehouse or writing
the files failed (nothing written); 2 usage or configuration: a missing or invalid key, a key
other than the build's, an id that is not a whole number, no warehouse or manifest, or a
pipeline run holding the warehouse (its lock, privseg.core.lock; --wait SECONDS waits for it).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from privseg.access.collect import collect
from privseg.access.discovery import subject_tables
from privseg.access.facts import build_report
from privseg.access.html import render_subject_access
from privseg.audit.facts import as_of_date
from privseg.core.files import write_json_atomically, write_text_atomically
from privseg.core.keys import KeyUnavailable, load_existing_key, pseudonymizer
from privseg.core.lock import LockBusy, add_wait_argument, reading
from privseg.core.logs import setup_logging
from privseg.core.settings import Settings, project_vars
from privseg.export.audience import ExportError
from privseg.export.warehouse import check_key_built_warehouse, open_warehouse, warehouse_error
from pseudonym_key import key_fingerprint

JSON_NAME = "subject_access.json"
HTML_NAME = "subject_access.html"
LOG_NAME = "subject_access.log"
TOOL = "the subject access report"


class AccessError(Exception):
    """A refusal or failure reported as one line, never with personal data."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def parse_customer_id(value: str) -> str:
    """The id as the build pseudonymizes it (a BIGINT as text: no sign, no leading zeros)."""
    if not re.fullmatch(r"\s*\d{1,19}\s*", value or ""):
        raise AccessError(
            "--customer-id must be the shop's customer number, a whole number (the value given "
            "is not shown: it may identify a person)"
        )
    return str(int(value))


def log_request(log_dir: Path, entry: dict) -> None:
    """Append one JSON line to LOG_DIR/subject_access.log (mode 600): the request, not its
    contents."""
    log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = log_dir / LOG_NAME
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, sort_keys=True) + "\n")


def subject_access(customer_id: str, out: Path, settings: Settings) -> dict:
    """Find, write and log; return the report. Raise AccessError to refuse."""
    try:
        key = load_existing_key(TOOL)
    except KeyUnavailable as error:
        raise AccessError(str(error)) from None
    fingerprint = key_fingerprint(key)
    manifest_path = settings.target_dir / "manifest.json"
    if not manifest_path.is_file():
        raise AccessError(
            f"dbt manifest not found at {manifest_path}: build first with `make run`, or set "
            "DBT_TARGET_PATH to the build's target folder"
        )
    if out.exists() and not out.is_dir():
        raise AccessError(f"--out {out} is a file: give a folder for the two report files")
    manifest = json.loads(manifest_path.read_text())
    tables = subject_tables(manifest)
    request_id = uuid.uuid4().hex
    requested_at = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        con = open_warehouse(settings.warehouse_path)
    except ExportError as error:
        raise AccessError(str(error), error.code) from None
    try:
        check_key_built_warehouse(con, fingerprint, settings.warehouse_path)
        as_of = as_of_date(con)
        held = collect(con, tables, pseudonymizer(key)(customer_id))
        content = build_report(con, manifest, tables, held, project_vars())
    except ExportError as error:
        raise AccessError(str(error), error.code) from None
    except duckdb.Error as error:
        failure = warehouse_error(error, settings.warehouse_path)
        raise AccessError(str(failure), failure.code) from None
    finally:
        con.close()

    report = {
        "request_id": request_id,
        "requested_at": requested_at,
        "customer_id": customer_id,
        "as_of_date": as_of,
        "key_fingerprint": fingerprint,
        **content,
    }
    try:
        out.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_json_atomically(out / JSON_NAME, report)
        write_text_atomically(out / HTML_NAME, render_subject_access(report))
    except OSError as error:
        (out / JSON_NAME).unlink(missing_ok=True)
        raise AccessError(f"could not write the report to {out}: {error.strerror}", 1) from None
    log_request(
        settings.log_dir,
        {
            "request_id": request_id,
            "requested_at": requested_at,
            "as_of_date": as_of,
            "key_fingerprint": fingerprint,
            "tables_searched": len(tables),
        },
    )
    logging.info(
        "subject access request %s: searched %d tables of the build as of %s; wrote %s and %s "
        "in %s (mode 600); request logged in %s",
        request_id,
        len(tables),
        as_of,
        JSON_NAME,
        HTML_NAME,
        out,
        settings.log_dir / LOG_NAME,
    )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--customer-id", required=True, metavar="ID", help="the shop's customer number"
    )
    parser.add_argument(
        "--out", required=True, type=Path, metavar="DIR", help="folder for the two report files"
    )
    add_wait_argument(parser)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    settings = Settings.from_env()
    try:
        # Under the pipeline's lock: never a report from a warehouse a run is rebuilding.
        with reading(settings.warehouse_path, "subject access request", args.wait):
            subject_access(parse_customer_id(args.customer_id), args.out, settings)
    except LockBusy as busy:
        logging.error("%s", busy)
        return 2
    except AccessError as error:
        logging.error("%s", error)
        return error.code
    return 0
