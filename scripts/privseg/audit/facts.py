"""What the privacy audit report shows besides its checks: facts read from the dbt manifest and
the warehouse (the Record of Processing Activities is in ropa.py).

Pure functions over a parsed manifest and a read-only DuckDB connection. Every figure is a count,
a share or metadata: no value of a personal column is read into Python.
"""

from __future__ import annotations

import duckdb

from privseg.audit.context import ClassSizes
from privseg.core.manifest import privacy_meta, published_models, relation


def as_of_date(con: duckdb.DuckDBPyConnection) -> str | None:
    """The build's as-of date, as every build records it in the key registry."""
    row = con.execute(
        "select cast(max(as_of_date) as varchar) from pseudonymized.int_pseudonym_key_registry"
    ).fetchone()
    return row[0] if row else None


def class_sizes(con: duckdb.DuckDBPyConnection, node: dict) -> ClassSizes:
    """Size histogram of a published table's equivalence classes (row level: rows per
    quasi-identifier combination; aggregated: the subject count of each cell, NULL as 0: a
    released cell must say how many it counts) and its risk. A cell published as 0 counts
    nobody: no class, no risk, left out. The audit's k-anonymity check and the report read the
    same histogram."""
    meta = privacy_meta(node)
    table = relation(node)
    count_column = meta.get("subject_count_column")
    if count_column:
        sizes_sql = (
            f'select coalesce("{count_column}", 0) as size from {table} '
            f'where "{count_column}" is distinct from 0'
        )
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
    sizes: dict[str, ClassSizes],
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
