"""Privacy audit of a built warehouse, independent of the dbt tests that built it.

    python scripts/audit_privacy.py [--out target/privacy_audit.json] [--verbose]

Reads the last build's dbt artifacts (DBT_TARGET_PATH, default target/: manifest.json and
build_results.json, the pipeline's copy of the build's run_results.json) and the warehouse
(WAREHOUSE_PATH, read-only), and recomputes what the privacy invariants promise:

    build_results          every model, seed and test of the build succeeded (invariant 7)
    published_k_anonymity  every published table (meta.privacy.published) is k-anonymous over its
                           quasi_identifiers, or every cell counts >= k subjects, and l-diverse in
                           a declared sensitive_attribute; k and l from dbt_project.yml vars
                           (invariant 6)
    consent                every subject of a consent-filtered model with a pseudonym column has
                           a valid grant for the model's purpose (invariant 3)
    raw_identifiers        no raw identifier value (source columns classified direct_identifier)
                           in any table past staging (invariant 1)
    secret_hygiene         the key in no file under the target and log folders, nor in the
                           warehouse file (invariant 2)

Writes a JSON report (build id, warehouse, status, one entry per check with its findings) and
logs one line per check. Findings name tables, columns, files and counts, never values.

Exit codes: 0 every check passed, 1 findings, 2 the audit cannot run (no build artifacts, no
warehouse, no key).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import yaml
from common import (
    KEY_ENV_VAR,
    PROJECT_DIR,
    Settings,
    failed_nodes,
    setup_logging,
    write_json_atomically,
)
from privacy_checks import (
    direct_identifier_source_columns,
    files_containing,
    scan_for_raw_identifiers,
)

BUILD_RESULTS = "build_results.json"
REPORT = "privacy_audit.json"


class AuditError(Exception):
    """The audit cannot run (exit 2)."""


def load_json(path: Path, what: str) -> dict:
    if not path.is_file():
        raise AuditError(
            f"{what} not found at {path}: build first (`make run` or pipeline.py build)"
        )
    return json.loads(path.read_text())


def project_vars() -> dict[str, Any]:
    return yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text()).get("vars") or {}


def relation(node: dict) -> str:
    return f'"{node["schema"]}"."{node.get("alias") or node["name"]}"'


def models(manifest: dict) -> list[dict]:
    return [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]


def privacy(node: dict) -> dict:
    return (node.get("config", {}).get("meta") or {}).get("privacy") or node.get("meta", {}).get(
        "privacy", {}
    )


def check_published_k_anonymity(
    con: duckdb.DuckDBPyConnection, manifest: dict, k: int, l_diverse: int
) -> list[str]:
    findings = []
    for node in models(manifest):
        meta = privacy(node)
        if not meta.get("published"):
            continue
        table = relation(node)
        quasi = meta.get("quasi_identifiers") or []
        count_column = meta.get("subject_count_column")
        if count_column:
            below, smallest = con.execute(
                f'select count(*) filter (where "{count_column}" is null or "{count_column}" < ?), '
                f'min("{count_column}") from {table}',
                [k],
            ).fetchone()
            if below:
                findings.append(f"{node['name']}: {below} cells count fewer than k={k} subjects")
            continue
        if not quasi:
            findings.append(f"{node['name']}: published without quasi_identifiers")
            continue
        group_by = ", ".join(f'"{q}"' for q in quasi)
        below, smallest = con.execute(
            f"select count(*) filter (where n < ?), min(n) from "
            f"(select count(*) as n from {table} group by {group_by})",
            [k],
        ).fetchone()
        if below:
            findings.append(
                f"{node['name']}: {below} equivalence classes below k={k} (smallest {smallest})"
            )
        sensitive = meta.get("sensitive_attribute")
        if sensitive:
            (not_diverse,) = con.execute(
                f"select count(*) filter (where v < ?) from "
                f'(select count(distinct "{sensitive}") as v from {table} group by {group_by})',
                [l_diverse],
            ).fetchone()
            if not_diverse:
                findings.append(
                    f"{node['name']}: {not_diverse} classes with fewer than l={l_diverse} "
                    f"distinct {sensitive} values"
                )
    return findings


def check_consent(con: duckdb.DuckDBPyConnection, manifest: dict) -> list[str]:
    findings = []
    for node in models(manifest):
        purpose = privacy(node).get("consent_purpose")
        subject_columns = [
            name
            for name, column in node["columns"].items()
            if (column.get("meta") or {}).get("privacy", {}).get("classification") == "pseudonym"
            and name == "customer_key"
        ]
        if not purpose or not subject_columns:
            continue
        (without_grant,) = con.execute(
            f"select count(distinct tested.customer_key) from {relation(node)} as tested "
            "where tested.customer_key is not null and tested.customer_key not in ("
            "select customer_key from consent.int_consented_subjects where consent_purpose = ?)",
            [purpose],
        ).fetchone()
        if without_grant:
            findings.append(
                f"{node['name']}: {without_grant} subjects without a valid '{purpose}' grant"
            )
    return findings


def run_audit(settings: Settings, out: Path) -> dict:
    target = settings.target_dir
    manifest = load_json(target / "manifest.json", "dbt manifest")
    results = load_json(target / BUILD_RESULTS, "build results")
    if not settings.warehouse_path.is_file():
        raise AuditError(f"warehouse {settings.warehouse_path} not found: build first")
    key = os.environ.get(KEY_ENV_VAR, "")
    if not key.strip():
        raise AuditError(f"{KEY_ENV_VAR} is not set: the secret scan needs the key")
    variables = project_vars()
    k, l_diverse = int(variables["segments_k"]), int(variables["segments_l"])

    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    checks: list[tuple[str, str, Callable[[], list[str]]]] = [
        (
            "build_results",
            "every node of the build succeeded",
            lambda: failed_nodes(results),
        ),
        (
            "published_k_anonymity",
            f"published tables are {k}-anonymous and {l_diverse}-diverse",
            lambda: check_published_k_anonymity(con, manifest, k, l_diverse),
        ),
        (
            "consent",
            "every subject of a consent-filtered model has a valid grant",
            lambda: check_consent(con, manifest),
        ),
    ]
    report_checks = []
    try:
        for name, claim, check in checks:
            report_checks.append(_timed(name, claim, check))
    finally:
        con.close()
    report_checks.append(
        _timed(
            "raw_identifiers",
            "no raw identifier value in any table past staging",
            lambda: [
                f"{leak.relation}.{leak.column}: {leak.matches} rows hold raw identifier values"
                for leak in scan_for_raw_identifiers(
                    settings.warehouse_path,
                    settings.raw_data_dir,
                    direct_identifier_source_columns(manifest),
                )
            ],
        )
    )
    report_checks.append(
        _timed(
            "secret_hygiene",
            "the key is in no artifact, log or database file",
            lambda: [
                f"{path}: contains the pseudonymization key"
                for path in files_containing(
                    key,
                    [p for p in (target, settings.log_dir, settings.warehouse_path) if p.exists()],
                )
            ],
        )
    )
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "build_id": results["metadata"]["invocation_id"],
        "warehouse": str(settings.warehouse_path),
        "k": k,
        "l": l_diverse,
        "status": "pass" if all(c["status"] == "pass" for c in report_checks) else "fail",
        "checks": report_checks,
    }
    write_json_atomically(out, report)
    return report


def _timed(name: str, claim: str, check: Callable[[], list[str]]) -> dict:
    started = time.monotonic()
    findings = check()
    seconds = round(time.monotonic() - started, 2)
    status = "fail" if findings else "pass"
    log = logging.error if findings else logging.info
    log("audit %-22s %s (%s, %.1f s)", name, status.upper(), claim, seconds)
    for finding in findings:
        logging.error("  %s", finding)
    return {
        "name": name,
        "claim": claim,
        "status": status,
        "findings": findings,
        "seconds": seconds,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help=f"report path (default <target>/{REPORT})")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    settings = Settings.from_env()
    try:
        report = run_audit(settings, args.out or settings.target_dir / REPORT)
    except AuditError as error:
        logging.error("audit cannot run: %s", error)
        return 2
    return 0 if report["status"] == "pass" else 1


if __name__ == "__main__":
    sys.exit(main())
