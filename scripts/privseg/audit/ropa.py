"""The Record of Processing Activities (GDPR art. 30(1)), generated from the dbt manifest's
metadata and the seeds consent_purposes and retention_policies, for the audit report.

Pure functions over a parsed manifest and a read-only DuckDB connection: metadata and counts,
no value of a personal column.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from privseg.audit.checks.retention import retention_tests
from privseg.core.manifest import models, privacy_meta

NON_PERSONAL_CLASSES = ("non_personal", "aggregate")


def ancestors(manifest: dict, unique_id: str) -> set[str]:
    """Every node `unique_id` reads from, directly or not."""
    seen: set[str] = set()
    stack = [unique_id]
    while stack:
        node = manifest["nodes"].get(stack.pop()) or {}
        for parent in node.get("depends_on", {}).get("nodes", []):
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return seen


def _is_personal(classification: str | None, category: str | None) -> bool:
    return bool(
        category
        and classification not in NON_PERSONAL_CLASSES
        and not category.startswith("system.")
    )


def personal_categories(
    nodes: Iterable[dict], column_lineage: dict[str, dict[str, list]]
) -> list[str]:
    """Personal data categories the models process: their own columns' data_category, and the
    category of every source column their columns trace to (a birth date that only decides an
    age band is still processed)."""
    found = set()
    for node in nodes:
        for name, column in node["columns"].items():
            meta = privacy_meta(column)
            if _is_personal(meta.get("classification"), meta.get("data_category")):
                found.add(meta["data_category"])
            for entry in column_lineage.get(node["name"], {}).get(name, []):
                if _is_personal(entry.get("source_classification"), entry.get("data_category")):
                    found.add(entry["data_category"])
    return sorted(found)


def ropa(
    con: duckdb.DuckDBPyConnection,
    manifest: dict,
    controller: str,
    k: int,
    l_diverse: int,
    column_lineage: dict[str, dict[str, list]],
) -> dict:
    """Record of Processing Activities (GDPR art. 30(1)), one activity per consent purpose.

    Generated from metadata, not written by hand: purposes, descriptions and legal bases from
    the seed consent_purposes; data categories from meta.privacy of the columns of every model
    the purpose covers, of the source columns they trace to (lineage) and the categories an
    exposure of the purpose declares (meta.privacy.data_categories: what leaves the warehouse);
    recipients from the exposures; retention from the within_retention tests on the models
    the purpose reads and the seed retention_policies."""
    purposes = con.execute(
        "select consent_purpose, description, legal_basis, data_use "
        "from reference.consent_purposes order by consent_purpose"
    ).fetchall()
    policies = {
        category: {"data_category": category, "retention_days": int(days), "basis": basis}
        for category, days, basis in con.execute(
            "select data_category, retention_days, basis from reference.retention_policies"
        ).fetchall()
    }
    all_models = models(manifest)
    retention = retention_tests(manifest)
    exposures = sorted(manifest.get("exposures", {}).values(), key=lambda e: e["name"])
    pseudonymized_sources = sum(
        1
        for source in manifest["sources"].values()
        for column in source["columns"].values()
        if privacy_meta(column).get("classification") == "direct_identifier"
    )
    consent_tests = sum(
        1
        for node in manifest["nodes"].values()
        if (node.get("test_metadata") or {}).get("name") == "consent_respected"
    )
    activities = []
    for purpose, description, legal_basis, data_use in purposes:
        scoped = [n for n in all_models if privacy_meta(n).get("consent_purpose") == purpose]
        scoped_ids = {n["unique_id"] for n in scoped}
        purpose_exposures = [
            exposure
            for exposure in exposures
            if privacy_meta(exposure).get("consent_purpose") == purpose
            or set(exposure["depends_on"]["nodes"]) & scoped_ids
            and not privacy_meta(exposure).get("consent_purpose")
        ]
        used = scoped_ids | {
            unique_id
            for exposure in purpose_exposures
            for unique_id in exposure["depends_on"]["nodes"]
            if unique_id.startswith("model.")
        }
        read = set(used)
        for unique_id in used:
            read |= ancestors(manifest, unique_id)
        categories = set(personal_categories(scoped, column_lineage))
        for exposure in purpose_exposures:
            categories |= set(privacy_meta(exposure).get("data_categories") or [])
        recipients = [
            {
                "name": exposure["name"],
                "label": exposure.get("label") or exposure["name"],
                "type": exposure.get("type"),
                "owner": (exposure.get("owner") or {}).get("name"),
                "recipients": privacy_meta(exposure).get("recipients"),
                "description": " ".join((exposure.get("description") or "").split()),
            }
            for exposure in purpose_exposures
        ]
        retained = sorted({t["data_category"] for t in retention if t["model"] in read})
        activities.append(
            {
                "purpose": purpose,
                "description": description,
                "legal_basis": legal_basis,
                "data_use": data_use,
                "data_subjects": "customers of the shop (identified through the keyed pseudonym)",
                "data_categories": sorted(categories),
                "recipients": recipients,
                "retention": [
                    policies.get(c, {"data_category": c, "retention_days": None, "basis": None})
                    for c in retained
                ],
                "models": sorted(n["name"] for n in all_models if n["unique_id"] in used),
                "safeguards": [
                    f"direct identifiers ({pseudonymized_sources} source columns) are dropped "
                    "or replaced by keyed HMAC-SHA256 pseudonyms in the first layer past staging",
                    "quasi-identifiers generalized (age bands, regions, tenure and value bands)",
                    f"consent enforced per purpose as of each run ({consent_tests} "
                    "consent_respected tests); a withdrawal removes the subject on the next run",
                    "erasure requests remove the subject from every table (delete + CHECKPOINT)",
                    f"retention enforced by {len(retention)} within_retention tests",
                    f"BI reads only published tables: {k}-anonymous, {l_diverse}-diverse, "
                    "small cells suppressed; write-audit-publish",
                ],
            }
        )
    return {
        "controller": controller,
        "generated_from": "dbt manifest (meta.privacy, exposures, tests) and the seeds "
        "consent_purposes and retention_policies",
        "activities": activities,
    }
