"""What the privacy audit report shows besides its checks: facts read from the dbt manifest and
the warehouse, and the Record of Processing Activities (GDPR art. 30(1)) generated from them.

Pure functions over a parsed manifest and a read-only DuckDB connection. Every figure is a count,
a share or metadata: no value of a personal column is read into Python.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import duckdb
from common import privacy_meta, published_models

NON_PERSONAL_CLASSES = ("non_personal", "aggregate")


def relation(node: dict) -> str:
    return f'"{node["schema"]}"."{node.get("alias") or node["name"]}"'


def models(manifest: dict) -> list[dict]:
    return sorted(
        (n for n in manifest["nodes"].values() if n["resource_type"] == "model"),
        key=lambda n: n["name"],
    )


def as_of_date(con: duckdb.DuckDBPyConnection) -> str | None:
    """The build's as-of date, as every build records it in the key registry."""
    row = con.execute(
        "select cast(max(as_of_date) as varchar) from pseudonymized.int_pseudonym_key_registry"
    ).fetchone()
    return row[0] if row else None


def class_sizes(
    con: duckdb.DuckDBPyConnection, node: dict
) -> tuple[list[dict[str, int]], dict[str, Any]]:
    """Size histogram of a published table's equivalence classes (row level: rows per
    quasi-identifier combination; aggregated: the subject count of each cell, NULL as 0) and
    its risk. The audit's k-anonymity check and the report read the same histogram."""
    meta = privacy_meta(node)
    table = relation(node)
    count_column = meta.get("subject_count_column")
    if count_column:
        sizes_sql = f'select coalesce("{count_column}", 0) as size from {table}'
    else:
        group_by = ", ".join(f'"{q}"' for q in meta.get("quasi_identifiers") or [])
        if not group_by:
            return [], {}
        sizes_sql = f"select count(*) as size from {table} group by {group_by}"
    histogram = [
        {"size": int(size), "classes": int(classes)}
        for size, classes in con.execute(
            f"select size, count(*) from ({sizes_sql}) group by size order by size"
        ).fetchall()
    ]
    classes = sum(h["classes"] for h in histogram)
    records = sum(h["size"] * h["classes"] for h in histogram)
    smallest = histogram[0]["size"] if histogram else None
    risk = {
        "classes": classes,
        "smallest_class": smallest,
        # Prosecutor risk of a record: 1 / the size of its class.
        "max_risk": round(1 / smallest, 4) if smallest else None,
        "avg_risk": round(classes / records, 4) if records else None,
    }
    return histogram, risk


def published_tables(
    con: duckdb.DuckDBPyConnection,
    manifest: dict,
    column_lineage: dict[str, dict[str, list]],
    sizes: dict[str, tuple[list[dict[str, int]], dict[str, Any]]],
) -> list[dict]:
    """One entry per published model: its facts, risk, class sizes (from `sizes`, the audit's
    check, or computed) and columns with lineage."""
    tables = []
    for node in published_models(manifest):
        meta = privacy_meta(node)
        (rows,) = con.execute(f"select count(*) from {relation(node)}").fetchone()
        histogram, risk = sizes.get(node["name"]) or class_sizes(con, node)
        lineage_of = column_lineage.get(node["name"], {})
        tables.append(
            {
                "name": node["name"],
                "description": node.get("description", "").split("\n\n")[0],
                "kind": "aggregated" if meta.get("subject_count_column") else "row_level",
                "rows": int(rows),
                "quasi_identifiers": list(meta.get("quasi_identifiers") or []),
                "sensitive_attribute": meta.get("sensitive_attribute"),
                "subject_count_column": meta.get("subject_count_column"),
                **risk,
                "class_size_histogram": histogram,
                "columns": [
                    {
                        "name": name,
                        "description": column.get("description", ""),
                        "classification": privacy_meta(column).get("classification"),
                        "data_category": privacy_meta(column).get("data_category"),
                        "lineage": lineage_of.get(name, []),
                    }
                    for name, column in node["columns"].items()
                ],
            }
        )
    return tables


def segment_sizes(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Members per segment (distinct subjects) and whether the segment total was released."""
    return [
        {"segment": segment, "members": int(members), "published": not suppressed}
        for segment, members, suppressed in con.execute(
            "select segment_name, member_count, is_suppressed "
            "from segments.int_segment_cells_suppressed where cell_level = 'segment_total' "
            "order by member_count desc, segment_name"
        ).fetchall()
    ]


def consent_coverage(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Subjects with a valid grant per purpose, out of all pseudonymized customers."""
    (subjects,) = con.execute(
        "select count(*) from pseudonymized.int_customers_pseudonymized"
    ).fetchone()
    return [
        {"purpose": purpose, "granted": int(granted), "subjects": int(subjects)}
        for purpose, granted in con.execute(
            "select purposes.consent_purpose, count(distinct consented.customer_key) "
            "from reference.consent_purposes as purposes "
            "left join consent.int_consented_subjects as consented "
            "on consented.consent_purpose = purposes.consent_purpose "
            "group by 1 order by 1"
        ).fetchall()
    ]


def quarantine(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Raw rows set aside by staging, per source table and reason (counts only)."""
    return [
        {"source_table": f"{source}.{table}", "reason": reason, "rows": int(rows)}
        for source, table, reason, rows in con.execute(
            "select source_name, source_table, reject_reason, sum(rejected_row_count) "
            "from staging.stg_quarantine__summary group by 1, 2, 3 order by 4 desc, 1, 2, 3"
        ).fetchall()
    ]


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
