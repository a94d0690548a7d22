"""The one in-memory DuckDB connection where every raw table is built, and how a built table is
rendered to its raw columns and written.

Each raw table is first built as compact typed rows, `compact_<table>` (numbers, codes, epoch
seconds), with a `sort_key` equal to its numeric id; `register` declares how a compact row
renders as the table's raw columns (all VARCHAR). Text is rendered only for the rows being
written, after the compact rows are sorted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from privseg.datagen.contract import RAW_COLUMNS
from privseg.datagen.parameters import Parameters


@dataclass
class Workspace:
    con: duckdb.DuckDBPyConnection
    params: Parameters
    # Postcode areas per country code, and products per category index (set when built).
    area_counts: dict[str, int] = field(default_factory=dict)
    category_sizes: list[int] = field(default_factory=list)
    # Per table: the select list rendering alias `compact` as the raw columns, and the helper
    # columns (over `compact`) the fault injection needs besides them.
    rendered: dict[str, str] = field(default_factory=dict)
    fault_helpers: dict[str, str] = field(default_factory=dict)

    def run(self, sql: str) -> None:
        self.con.execute(sql).fetchall()

    def count(self, table: str) -> int:
        (rows,) = self.con.execute(f"select count(*) from {table}").fetchone()
        return int(rows)

    def drop(self, *tables: str) -> None:
        for table in tables:
            self.run(f"drop table if exists {table}")

    def register(self, table: str, columns: dict[str, str], fault_helpers: str = "") -> None:
        """Declare how compact_<table> renders as the raw columns: {column: SQL over compact}."""
        assert list(columns) == RAW_COLUMNS[table], table
        self.rendered[table] = ", ".join(
            f"cast(({expression}) as varchar) as {column}" for column, expression in columns.items()
        )
        self.fault_helpers[table] = fault_helpers

    def rows_query(self, table: str) -> str:
        """Clean and faulty rows as raw columns, with source_sort_key, fault_sequence (0 for a
        clean row) and kind (the fault, NULL for a clean row)."""
        columns = ", ".join(RAW_COLUMNS[table])
        return f"""
            select
                {self.rendered[table]},
                compact.sort_key as source_sort_key,
                0 as fault_sequence,
                cast(null as varchar) as kind
            from compact_{table} as compact
            union all
            select {columns}, source_sort_key, fault_sequence, kind
            from faulty_{table}
        """

    def write(self, table: str, path: Path) -> int:
        """Write clean and faulty rows ordered by id (a faulty row sits next to its source row);
        return the number of rows written."""
        columns = ", ".join(RAW_COLUMNS[table])
        target = str(path).replace("'", "''")
        if self.count(f"faulty_{table}") == 0:
            # Sort the compact rows, then render text in an order-preserving projection.
            query = f"""
                select {self.rendered[table]}
                from (select * from compact_{table} order by sort_key) as compact
            """
        else:
            query = f"""
                select {columns}
                from ({self.rows_query(table)})
                order by source_sort_key, fault_sequence
            """
        self.run(
            f"copy ({query}) to '{target}' (format parquet, compression zstd, compression_level 1)"
        )
        return self.count(f"compact_{table}") + self.count(f"faulty_{table}")
