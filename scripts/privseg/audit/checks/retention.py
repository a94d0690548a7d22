"""retention: every within_retention test recomputed, no row older than its category's policy
as of the build."""

from __future__ import annotations

import duckdb

from privseg.audit.context import AuditRun
from privseg.core.manifest import relation


def retention_tests(manifest: dict) -> list[dict]:
    """The within_retention tests of the project: model id, column and retention category."""
    tests = []
    for node in manifest["nodes"].values():
        metadata = node.get("test_metadata") or {}
        if node["resource_type"] != "test" or metadata.get("name") != "within_retention":
            continue
        tests.append(
            {
                "model": node.get("attached_node") or node["depends_on"]["nodes"][0],
                "column": node.get("column_name") or metadata["kwargs"]["column_name"],
                "data_category": metadata["kwargs"]["data_category"],
            }
        )
    return sorted(tests, key=lambda t: (t["model"], t["column"]))


def check_retention(con: duckdb.DuckDBPyConnection, manifest: dict, as_of: str | None) -> list[str]:
    """Recompute every within_retention test: rows dated before as_of minus the retention days
    of the test's data category (seed retention_policies)."""
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


def run(audit: AuditRun) -> list[str]:
    return check_retention(audit.connection, audit.manifest, audit.as_of)
