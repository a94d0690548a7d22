"""Privacy audit of a built warehouse, independent of the dbt tests that built it.

    python scripts/audit_privacy.py [--out target/privacy_audit.json] [--verbose]

Reads the last build's dbt artifacts (DBT_TARGET_PATH, default target/: manifest.json and
build_results.json, the pipeline's copy of the build's run_results.json) and the warehouse
(WAREHOUSE_PATH, read-only), and recomputes what the privacy invariants promise:

    build_results          every model, seed and test of the build succeeded (invariant 7)
    lineage                every column of every model past staging traces (sqlglot, over the
                           compiled SQL and the warehouse's columns) to source columns that carry
                           meta.privacy; a mart or published column reaches a direct identifier
                           only through hashing or aggregation (invariant 1)
    published_k_anonymity  every published table (meta.privacy.published) is k-anonymous over its
                           quasi_identifiers, or every cell counts >= k subjects, and l-diverse in
                           a declared sensitive_attribute; k and l as the model declares them
                           (meta.privacy.k and .l, else the dbt_project.yml vars segments_k and
                           segments_l, as the dbt macro published_privacy) (invariant 6)
    consent                every subject of a consent-filtered model with a pseudonym column has
                           a valid grant for the model's purpose (invariant 3)
    erasure                no pseudonym of a subject with an accepted erasure request, computed
                           here from the requests and the key, in any table past staging
                           (invariant 4)
    retention              every within_retention test recomputed: no row older than its
                           category's policy as of the build (invariant 5)
    pii_patterns           no text past staging that looks like an email address, a phone
                           number or an IP address, whatever its column is called (invariant 1)
    raw_identifiers        no raw identifier value (source columns classified direct_identifier)
                           in any table past staging (invariant 1)
    secret_hygiene         the key in no file under the target and log folders, nor in the
                           warehouse file (invariant 2)

Writes a JSON report (build id, as-of date, status, one entry per check with its findings, the
published tables with their class sizes, risk and column lineage, segment sizes, consent coverage,
quarantine counts and the Record of Processing Activities) and the same as a self-contained HTML
page beside it (privacy_audit.html), and logs one line per check. Findings name tables, columns,
files and counts, never values.

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
from audit_facts import (
    as_of_date,
    class_sizes,
    consent_coverage,
    models,
    published_tables,
    quarantine,
    relation,
    retention_tests,
    ropa,
    segment_sizes,
)
from audit_report import render_html
from common import (
    KEY_ENV_VAR,
    PROJECT_DIR,
    Settings,
    failed_nodes,
    privacy_meta,
    pseudonymizer,
    published_models,
    setup_logging,
    write_json_atomically,
    write_text_atomically,
)
from lineage import ProjectLineage, trace_project
from privacy_checks import (
    direct_identifier_source_columns,
    files_containing,
    scan_for_pii_patterns,
    scan_for_raw_identifiers,
    text_columns,
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


def check_published_k_anonymity(
    con: duckdb.DuckDBPyConnection,
    manifest: dict,
    default_k: int,
    default_l: int,
    sizes: dict[str, tuple[list[dict[str, int]], dict[str, Any]]],
) -> list[str]:
    """Every published table k-anonymous (or every cell >= k) and l-diverse (invariant 6), with
    the k and l it declares (meta.privacy.k and .l, else the defaults: vars segments_k and
    segments_l). Fills `sizes` (class size histogram and risk per table) for the report."""
    findings = []
    for node in published_models(manifest):
        meta = privacy_meta(node)
        k, l_diverse = int(meta.get("k", default_k)), int(meta.get("l", default_l))
        quasi = meta.get("quasi_identifiers") or []
        count_column = meta.get("subject_count_column")
        if not quasi and not count_column:
            findings.append(f"{node['name']}: published without quasi_identifiers")
            continue
        histogram, risk = sizes[node["name"]] = class_sizes(con, node)
        below = sum(h["classes"] for h in histogram if h["size"] < k)
        if below and count_column:
            findings.append(f"{node['name']}: {below} cells count fewer than k={k} subjects")
        elif below:
            findings.append(
                f"{node['name']}: {below} equivalence classes below k={k} "
                f"(smallest {risk['smallest_class']})"
            )
        sensitive = meta.get("sensitive_attribute")
        if sensitive and not count_column:
            group_by = ", ".join(f'"{q}"' for q in quasi)
            (not_diverse,) = con.execute(
                f"select count(*) filter (where v < ?) from (select count(distinct "
                f'"{sensitive}") as v from {relation(node)} group by {group_by})',
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
        purpose = privacy_meta(node).get("consent_purpose")
        subject_columns = [
            name
            for name, column in node["columns"].items()
            if privacy_meta(column).get("classification") == "pseudonym" and name == "customer_key"
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


def erased_customer_keys(con: duckdb.DuckDBPyConnection, key: bytes) -> list[str]:
    """Pseudonyms of every subject with an accepted erasure request (the tombstones), computed
    here from the staged requests and the key, not read from a table the build wrote."""
    pseudonym = pseudonymizer(key)
    return [
        pseudonym(customer_id)
        for (customer_id,) in con.execute(
            "select distinct customer_id from staging.stg_preference_center__erasure_requests "
            "where request_status in ('received', 'completed') and customer_id is not null"
        ).fetchall()
    ]


def check_erasure(
    con: duckdb.DuckDBPyConnection, tombstones: list[str], counts: dict[str, int]
) -> list[str]:
    """Every text column of every table past staging: rows holding an erased subject's
    pseudonym (invariant 4). Fills `counts` (tombstones, rows found) for the report."""
    counts.update(tombstones=len(tombstones), found_after_erasure=0)
    if not tombstones:
        return []
    con.execute("create or replace temp table audit_tombstones (customer_key varchar)")
    con.executemany("insert into audit_tombstones values (?)", [[t] for t in tombstones])
    findings = []
    for schema, table, column in text_columns(con, ("staging",)):
        (rows,) = con.execute(
            f'select count(*) from "{schema}"."{table}" as scanned '
            f'where scanned."{column}" in (select customer_key from audit_tombstones)'
        ).fetchone()
        if rows:
            counts["found_after_erasure"] += rows
            findings.append(f"{schema}.{table}.{column}: {rows} rows of erased subjects")
    return findings


def check_retention(con: duckdb.DuckDBPyConnection, manifest: dict, as_of: str | None) -> list[str]:
    """Recompute every within_retention test: rows dated before as_of minus the retention days
    of the test's data category (seed retention_policies) (invariant 5)."""
    if as_of is None:
        return ["the build recorded no as-of date (pseudonymized.int_pseudonym_key_registry)"]
    days = dict(
        con.execute(
            "select data_category, retention_days from reference.retention_policies"
        ).fetchall()
    )
    findings = []
    for test in retention_tests(manifest):
        node = manifest["nodes"][test["model"]]
        category = test["data_category"]
        if category not in days:
            findings.append(f"{node['name']}.{test['column']}: no retention policy '{category}'")
            continue
        (expired,) = con.execute(
            f'select count(*) from {relation(node)} where "{test["column"]}" '
            "< cast(? as date) - cast(? as integer)",
            [as_of, days[category]],
        ).fetchone()
        if expired:
            findings.append(
                f"{node['name']}.{test['column']}: {expired} rows older than the "
                f"{days[category]}-day '{category}' retention as of {as_of}"
            )
    return findings


def warehouse_catalog(con: duckdb.DuckDBPyConnection, manifest: dict) -> dict:
    """catalog.json's shape (nodes -> columns -> type) read from the warehouse itself, so the
    audit sees the relations as built, even before `dbt docs generate` writes catalog.json."""
    by_relation = {
        (node["schema"], node.get("alias") or node["name"]): unique_id
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed", "snapshot")
    }
    nodes: dict[str, dict] = {}
    for schema, table, column, data_type, position in con.execute(
        "select table_schema, table_name, column_name, data_type, ordinal_position "
        "from information_schema.columns where table_catalog = current_database() "
        "order by table_schema, table_name, ordinal_position"
    ).fetchall():
        unique_id = by_relation.get((schema, table))
        if unique_id:
            entry = nodes.setdefault(unique_id, {"unique_id": unique_id, "columns": {}})
            entry["columns"][column] = {"name": column, "type": data_type, "index": position}
    return {"nodes": nodes, "sources": {}}


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
    controller = str(variables.get("privacy_controller") or "not set (var privacy_controller)")

    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    report_checks: list[dict] = []
    sections: dict[str, Any] = {}
    try:
        as_of = as_of_date(con)
        erasure: dict[str, int] = {}
        sizes: dict[str, tuple[list[dict[str, int]], dict[str, Any]]] = {}
        traced: list[ProjectLineage] = []

        def trace_lineage() -> list[str]:
            traced.append(
                trace_project(manifest, warehouse_catalog(con, manifest), target_dir=target)
            )
            return traced[0].findings

        checks: list[tuple[str, str, Callable[[], list[str]]]] = [
            (
                "build_results",
                "every node of the build succeeded",
                lambda: failed_nodes(results),
            ),
            (
                "lineage",
                "every mart and published column traces to classified source columns, "
                "direct identifiers only through hashing or aggregation",
                trace_lineage,
            ),
            (
                "published_k_anonymity",
                f"published tables are {k}-anonymous and {l_diverse}-diverse",
                lambda: check_published_k_anonymity(con, manifest, k, l_diverse, sizes),
            ),
            (
                "consent",
                "every subject of a consent-filtered model has a valid grant",
                lambda: check_consent(con, manifest),
            ),
            (
                "erasure",
                "no erased subject's pseudonym in any table past staging",
                lambda: check_erasure(con, erased_customer_keys(con, key.encode()), erasure),
            ),
            (
                "retention",
                "no row older than its retention policy past staging",
                lambda: check_retention(con, manifest, as_of),
            ),
            (
                "pii_patterns",
                "no email address, phone number or IP address in any text past staging",
                lambda: [
                    f"{match.relation}.{match.column}: {match.matches} rows look like "
                    f"{match.pattern} values"
                    for match in scan_for_pii_patterns(con)
                ],
            ),
        ]
        for name, claim, check in checks:
            report_checks.append(_timed(name, claim, check))
        sections = _report_sections(
            con, manifest, traced[0].columns if traced else {}, sizes, controller, k, l_diverse
        )
        sections["as_of"] = as_of
        sections["erasure"] = {**_erasure_requests(con), **erasure}
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
        "as_of": sections.pop("as_of", None),
        "k": k,
        "l": l_diverse,
        "status": "pass" if all(c["status"] == "pass" for c in report_checks) else "fail",
        "checks": report_checks,
        **sections,
    }
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


def _report_sections(
    con: duckdb.DuckDBPyConnection,
    manifest: dict,
    column_lineage: dict[str, dict[str, list]],
    sizes: dict[str, tuple[list[dict[str, int]], dict[str, Any]]],
    controller: str,
    k: int,
    l_diverse: int,
) -> dict[str, Any]:
    """The report's descriptive sections; one that cannot be read is reported as missing."""
    sections: dict[str, Any] = {}
    readers: dict[str, Callable[[], Any]] = {
        "published_tables": lambda: published_tables(con, manifest, column_lineage, sizes),
        "segment_sizes": lambda: segment_sizes(con),
        "consent_coverage": lambda: consent_coverage(con),
        "quarantine": lambda: quarantine(con),
        "ropa": lambda: ropa(con, manifest, controller, k, l_diverse, column_lineage),
        "lineage": lambda: column_lineage,
    }
    for name, read in readers.items():
        try:
            sections[name] = read()
        except duckdb.Error as error:
            logging.error("audit report: section %s not available: %s", name, error)
    return sections


def _timed(name: str, claim: str, check: Callable[[], list[str]]) -> dict:
    started = time.monotonic()
    try:
        findings = check()
    except duckdb.Error as error:
        # A relation the check needs is missing or unreadable: that is a failed check, not a
        # pass (DuckDB's messages name relations and columns, never values).
        findings = [f"could not run: {str(error).splitlines()[0]}"]
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
