"""The warehouse's own catalog, as the checks need it: its text columns, and its relations'
columns in catalog.json's shape."""

from __future__ import annotations

import duckdb


def text_columns(
    con: duckdb.DuckDBPyConnection, skip_schemas: tuple[str, ...], catalog: str | None = None
) -> list[tuple[str, str, str]]:
    """(schema, relation, column) of every text column of every table and view outside
    skip_schemas, in `catalog` (default: the connection's database), in column order."""
    placeholders = ", ".join("?" for _ in skip_schemas)
    return con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where data_type = 'VARCHAR' and table_catalog = coalesce(?, current_database()) "
        f"and table_schema not in ({placeholders}) order by 1, 2, ordinal_position",
        [catalog, *skip_schemas],
    ).fetchall()


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
