"""The subject access report as data: what is held (collect.py), and for each table why, on
what legal basis, for how long and where it goes. Those facts come from the same sources as the
audit's Record of Processing Activities (audit/ropa.py: the seed consent_purposes, exposures,
within_retention tests and the seed retention_policies), not from text written here."""

from __future__ import annotations

from typing import Any

import duckdb

from privseg.access.collect import HeldRows
from privseg.access.discovery import SubjectTable
from privseg.audit.checks.retention import retention_tests
from privseg.audit.ropa import ancestors, ropa
from privseg.core.manifest import privacy_meta, published_models

# What the audience export (scripts/export_audience.py) records of an export: its summary
# JSON holds counts, never who was exported. Said in the report so the answer is complete.
EXPORTS_NOTE = (
    "Audience exports are logged as counts only (how many addresses left, for which segment "
    "and purpose), never as a list of people; the emails a campaign sent you are listed with "
    "your email events above, where the warehouse holds them."
)


def first_paragraph(text: str | None) -> str:
    """The first paragraph of a model or column description, on one line."""
    return " ".join((text or "").strip().split("\n\n")[0].split())


def _activities_by_model(manifest: dict, activities: list[dict]) -> dict[str, list[dict[str, Any]]]:
    """model unique_id -> the RoPA activities (purposes) that read it, directly or upstream."""
    by_name = {n["name"]: uid for uid, n in manifest["nodes"].items()}
    result: dict[str, list[dict]] = {}
    for activity in activities:
        used = {by_name[name] for name in activity["models"] if name in by_name}
        read = set(used)
        for unique_id in used:
            read |= ancestors(manifest, unique_id)
        for unique_id in read:
            result.setdefault(unique_id, []).append(activity)
    return result


def _retention_of(manifest: dict, policies: dict[str, dict]) -> dict[str, list[dict]]:
    """model unique_id -> the retention policies its within_retention tests enforce."""
    result: dict[str, list[dict]] = {}
    for test in retention_tests(manifest):
        policy = policies.get(test["data_category"]) or {"data_category": test["data_category"]}
        entry = {**policy, "column": test["column"]}
        result.setdefault(test["model"], []).append(entry)
    return result


def _purpose_summary(activity: dict) -> dict[str, Any]:
    return {
        "purpose": activity["purpose"],
        "description": activity["description"],
        "legal_basis": activity["legal_basis"],
        "recipients": activity["recipients"],
        "retention": activity["retention"],
    }


def build_report(
    con: duckdb.DuckDBPyConnection,
    manifest: dict,
    tables: list[SubjectTable],
    held: list[HeldRows],
    variables: dict[str, Any],
) -> dict[str, Any]:
    """The report's content (without the request's own fields): tables held, purposes,
    published tables that could count the subject, and the note on exports."""
    controller = str(variables.get("privacy_controller") or "not set (var privacy_controller)")
    record = ropa(
        con,
        manifest,
        controller,
        int(variables.get("segments_k") or 0),
        int(variables.get("segments_l") or 0),
        column_lineage={},
    )
    activities = {a["purpose"]: a for a in record["activities"]}
    by_model = _activities_by_model(manifest, record["activities"])
    policies = {
        category: {"data_category": category, "retention_days": int(days), "basis": basis}
        for category, days, basis in con.execute(
            "select data_category, retention_days, basis from reference.retention_policies"
        ).fetchall()
    }
    retention = _retention_of(manifest, policies)

    held_tables = []
    for entry in held:
        node = manifest["nodes"][entry.table.unique_id]
        meta = privacy_meta(node)
        purpose = meta.get("consent_purpose")
        purposes = (
            [activities[purpose]] if purpose in activities else by_model.get(node["unique_id"], [])
        )
        columns = []
        for name in entry.columns:
            column = node["columns"].get(name) or {}
            column_meta = privacy_meta(column)
            columns.append(
                {
                    "name": name,
                    "description": first_paragraph(column.get("description")),
                    "classification": column_meta.get("classification"),
                    "data_category": column_meta.get("data_category"),
                }
            )
        held_tables.append(
            {
                "table": entry.table.name,
                "layer": entry.table.layer,
                "description": first_paragraph(node.get("description")),
                "consent_purpose": purpose,
                "found_by": entry.found_by,
                "purposes": [_purpose_summary(a) for a in purposes],
                "retention": retention.get(node["unique_id"], []),
                "columns": columns,
                "row_count": len(entry.rows),
                "rows": entry.rows,
            }
        )

    held_ids = {entry.table.unique_id for entry in held}
    published = []
    for node in published_models(manifest):
        sources = sorted(
            manifest["nodes"][uid]["name"]
            for uid in ancestors(manifest, node["unique_id"])
            if uid in held_ids
        )
        if sources:
            published.append(
                {
                    "table": node["name"],
                    "description": first_paragraph(node.get("description")),
                    "consent_purpose": privacy_meta(node).get("consent_purpose"),
                    "from_tables": sources,
                }
            )

    return {
        "controller": controller,
        "held": bool(held),
        "tables_searched": sorted(t.name for t in tables),
        "tables": held_tables,
        "published_aggregates": published,
        "k": int(variables.get("segments_k") or 0),
        "purposes": [_purpose_summary(a) for a in record["activities"]],
        "exports": {"logged_per_person": False, "note": EXPORTS_NOTE},
    }
