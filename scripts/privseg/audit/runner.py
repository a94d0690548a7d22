"""Run every check of the registry on a built warehouse and write the JSON and HTML reports."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from privseg.audit.context import AuditError, AuditRun
from privseg.audit.facts import (
    as_of_date,
    consent_coverage,
    published_tables,
    quarantine,
    segment_sizes,
)
from privseg.audit.registry import CHECKS, Check
from privseg.audit.ropa import ropa
from privseg.core.files import write_json_atomically, write_text_atomically
from privseg.core.keys import KEY_ENV_VAR
from privseg.core.settings import Settings, project_vars
from privseg.core.warehouse import warehouse_build_id
from privseg.report.html import render_html

BUILD_RESULTS = "build_results.json"
REPORT = "privacy_audit.json"


def load_json(path: Path, what: str) -> dict:
    if not path.is_file():
        raise AuditError(
            f"{what} not found at {path}: build first (`make run` or pipeline.py build)"
        )
    return json.loads(path.read_text())


def run_audit(settings: Settings, out: Path) -> dict:
    """Run every check, write the report to `out` (JSON) and beside it (HTML); return it."""
    target = settings.target_dir
    manifest = load_json(target / "manifest.json", "dbt manifest")
    results = load_json(target / BUILD_RESULTS, "build results")
    if not settings.warehouse_path.is_file():
        raise AuditError(f"warehouse {settings.warehouse_path} not found: build first")
    key = os.environ.get(KEY_ENV_VAR, "")
    if not key.strip():
        raise AuditError(f"{KEY_ENV_VAR} is not set: the secret scan needs the key")
    variables = project_vars()
    audit = AuditRun(
        settings=settings,
        manifest=manifest,
        results=results,
        key=key,
        k=int(variables["segments_k"]),
        l_diverse=int(variables["segments_l"]),
        variables=variables,
    )
    controller = str(variables.get("privacy_controller") or "not set (var privacy_controller)")

    report_checks: list[dict] = []
    sections: dict[str, Any] = {}
    audit.con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        # Which build the warehouse holds: publish refuses it if another build came since.
        warehouse_build = warehouse_build_id(audit.con)
        audit.as_of = as_of_date(audit.con)
        for check in CHECKS:
            if not check.reads_warehouse_file:
                report_checks.append(_timed(check, audit))
        sections = _report_sections(audit, controller)
        sections["erasure"] = {**_erasure_requests(audit.con), **audit.erasure_counts}
    finally:
        audit.con.close()
        audit.con = None
    for check in CHECKS:
        if check.reads_warehouse_file:
            report_checks.append(_timed(check, audit))
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "build_id": results["metadata"]["invocation_id"],
        "warehouse_build_id": warehouse_build,
        "warehouse": str(settings.warehouse_path),
        "as_of": audit.as_of,
        "k": audit.k,
        "l": audit.l_diverse,
        "status": "pass" if all(c["status"] == "pass" for c in report_checks) else "fail",
        "checks": report_checks,
        "attribute_disclosure": audit.attribute_disclosure,
        **sections,
    }
    if audit.release:
        report["release"] = audit.release
    write_json_atomically(out, report)
    html_path = out.with_suffix(".html")
    write_text_atomically(html_path, render_html(report))
    logging.info("audit report: %s and %s", out, html_path)
    return report


def _erasure_requests(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Accepted erasure requests on record (the erasure log), for the report."""
    try:
        (requests,) = con.execute("select count(*) from consent.int_erasure_log").fetchone()
    except duckdb.Error as error:
        logging.error("audit report: erasure log not available: %s", error)
        return {}
    return {"requests": int(requests)}


def _report_sections(audit: AuditRun, controller: str) -> dict[str, Any]:
    """The report's descriptive sections; one that cannot be read is reported as missing."""
    con, manifest = audit.connection, audit.manifest
    column_lineage = audit.lineage.columns if audit.lineage else {}
    sections: dict[str, Any] = {}
    readers: dict[str, Callable[[], Any]] = {
        "published_tables": lambda: published_tables(
            con, manifest, column_lineage, audit.class_sizes
        ),
        "segment_sizes": lambda: segment_sizes(con),
        "consent_coverage": lambda: consent_coverage(con),
        "quarantine": lambda: quarantine(con),
        "ropa": lambda: ropa(con, manifest, controller, audit.k, audit.l_diverse, column_lineage),
        "lineage": lambda: column_lineage,
    }
    for name, read in readers.items():
        try:
            sections[name] = read()
        except duckdb.Error as error:
            logging.error("audit report: section %s not available: %s", name, error)
    return sections


def _timed(check: Check, audit: AuditRun) -> dict:
    claim = check.claim_for(audit.k, audit.l_diverse)
    started = time.monotonic()
    try:
        findings = check.run(audit)
    except duckdb.Error as error:
        # A relation the check needs is missing or unreadable: that is a failed check, not a
        # pass (DuckDB's messages name relations and columns, never values).
        findings = [f"could not run: {str(error).splitlines()[0]}"]
    seconds = round(time.monotonic() - started, 2)
    status = "fail" if findings else "pass"
    log = logging.error if findings else logging.info
    log("audit %-22s %s (%s, %.1f s)", check.name, status.upper(), claim, seconds)
    for finding in findings:
        logging.error("  %s", finding)
    return {
        "name": check.name,
        "claim": claim,
        "invariants": list(check.invariants),
        "status": status,
        "findings": findings,
        "seconds": seconds,
    }
