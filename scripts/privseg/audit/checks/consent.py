"""consent: every subject of a consent-filtered model has a valid grant for its purpose."""

from __future__ import annotations

import duckdb

from privseg.audit.context import AuditRun
from privseg.core.manifest import models, privacy_meta, relation


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


def run(audit: AuditRun) -> list[str]:
    return check_consent(audit.connection, audit.manifest)
