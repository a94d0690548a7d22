"""raw_identifiers: no raw value of a source column classified direct_identifier in any table
past staging, compared with the raw files themselves (not read through dbt)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from privseg.audit.catalog import text_columns
from privseg.audit.context import AuditRun
from privseg.core.settings import raw_table_read

# Raw ids (customer_id, order_id...) are numbers that legitimately recur as
# other numbers; they are guarded by column classification instead.
VALUE_SCAN_EXCLUDED_CATEGORIES = ("user.unique_id",)
MIN_VALUE_LENGTH = 4


@dataclass(frozen=True)
class Leak:
    """A column holding raw identifier values, and in how many rows (never the values)."""

    relation: str
    column: str
    matches: int


def direct_identifier_source_columns(manifest: dict) -> dict[str, list[str]]:
    """{raw table name: [columns]} classified direct_identifier in the source yml."""
    found: dict[str, list[str]] = {}
    for source in manifest["sources"].values():
        for name, column in source["columns"].items():
            privacy = column.get("meta", {}).get("privacy", {})
            category = str(privacy.get("data_category", ""))
            if privacy.get("classification") == "direct_identifier" and not category.startswith(
                VALUE_SCAN_EXCLUDED_CATEGORIES
            ):
                found.setdefault(source["identifier"], []).append(name)
    return found


def scan_for_raw_identifiers(
    warehouse: Path,
    raw_data_dir: Path,
    columns: dict[str, list[str]],
    skip_schemas: tuple[str, ...] = ("staging",),
) -> list[Leak]:
    """Every text column of every table outside skip_schemas holding a raw identifier value.

    Compares whole values (trimmed, case-insensitive) with the distinct values
    of the given raw columns.
    """
    con = duckdb.connect()
    try:
        con.execute(f"attach '{warehouse}' as warehouse (read_only)")
        selects = [
            f"select lower(trim(cast({column} as varchar))) as value "
            f"from {raw_table_read(raw_data_dir, table)}"
            for table, cols in columns.items()
            for column in cols
        ]
        if not selects:
            return []
        con.execute(
            "create temp table identifier_values as select distinct value from ("
            + " union all ".join(selects)
            + f") where length(value) >= {MIN_VALUE_LENGTH}"
        )
        leaks = []
        for schema, table, column in text_columns(con, skip_schemas, catalog="warehouse"):
            (matches,) = con.execute(
                f'select count(*) from warehouse."{schema}"."{table}" as scanned '
                f'where lower(trim(scanned."{column}")) in (select value from identifier_values)'
            ).fetchone()
            if matches:
                leaks.append(Leak(f"{schema}.{table}", column, matches))
        return leaks
    finally:
        con.close()


def run(audit: AuditRun) -> list[str]:
    """Opens the warehouse file itself: runs once the audit's own connection is closed."""
    settings = audit.settings
    return [
        f"{leak.relation}.{leak.column}: {leak.matches} rows hold raw identifier values"
        for leak in scan_for_raw_identifiers(
            settings.warehouse_path,
            settings.raw_data_dir,
            direct_identifier_source_columns(audit.manifest),
        )
    ]
