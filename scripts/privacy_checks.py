"""Checks over built artifacts that dbt tests cannot express: raw identifier
values leaking into tables past staging, and the key leaking into files.

Pure functions over a manifest, DuckDB connections and paths; the test suite
uses them now and the privacy audit will. Results name tables, columns and
files, never the values found.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

# Raw ids (customer_id, order_id...) are numbers that legitimately recur as
# other numbers; they are guarded by column classification instead.
VALUE_SCAN_EXCLUDED_CATEGORIES = ("user.unique_id",)
MIN_VALUE_LENGTH = 4


@dataclass(frozen=True)
class Leak:
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
            f"from read_parquet('{raw_data_dir / table}.parquet')"
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


def files_containing(secret: str, paths: list[Path]) -> list[Path]:
    """Files under `paths` (files or folders) whose bytes contain `secret`."""
    needle = secret.encode()
    if not needle:
        raise ValueError("an empty secret matches everything")
    hits = []
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            if needle in path.read_bytes():
                hits.append(path)
    return hits


# Patterns of personal data that must not appear in any text past staging, whatever the column
# is called or classified as (RE2 syntax, run inside DuckDB). Heuristics: a match names a column
# to look at, not proof; the boundaries keep hex pseudonyms, dates and times from matching.
PII_PATTERNS = {
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
    "phone": r"(^|[^0-9A-Za-z+])(\+[1-9][0-9 ().-]{6,16}[0-9]|\(?0[0-9]{2,4}\)?[ .-]?[0-9]{3,4}"
    r"[ .-]?[0-9]{3,4})($|[^0-9A-Za-z])",
    "ipv4": r"(^|[^0-9.])((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}"
    r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])($|[^0-9.])",
    "ipv6": r"(^|[^0-9A-Fa-f:])(([0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}"
    r"|([0-9A-Fa-f]{1,4}:){1,6}:[0-9A-Fa-f]{1,4})($|[^0-9A-Fa-f:])",
}


@dataclass(frozen=True)
class PatternMatch:
    relation: str
    column: str
    pattern: str
    matches: int


def scan_for_pii_patterns(
    con: duckdb.DuckDBPyConnection, skip_schemas: tuple[str, ...] = ("staging",)
) -> list[PatternMatch]:
    """Rows of every text column of every table outside skip_schemas that match a PII pattern.

    One scan per table (every column and pattern counted in one query); returns counts only."""
    columns: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in text_columns(con, skip_schemas):
        columns.setdefault((schema, table), []).append(column)
    # One regular expression of all patterns first (RE2 matches the alternation in one pass),
    # then each pattern only on the columns that matched it: about 4x less regex work.
    combined = "|".join(f"({pattern})" for pattern in PII_PATTERNS.values())
    found = []
    for (schema, table), names in columns.items():
        relation = f'"{schema}"."{table}"'
        hits = _count_matches(con, relation, [(column, combined) for column in names])
        suspects = [column for column, n in zip(names, hits, strict=True) if n]
        checks = [(column, pattern) for column in suspects for pattern in PII_PATTERNS]
        counts = _count_matches(
            con, relation, [(column, PII_PATTERNS[pattern]) for column, pattern in checks]
        )
        found += [
            PatternMatch(f"{schema}.{table}", column, pattern, n)
            for (column, pattern), n in zip(checks, counts, strict=True)
            if n
        ]
    return found


def _count_matches(
    con: duckdb.DuckDBPyConnection, relation: str, checks: list[tuple[str, str]]
) -> list[int]:
    """Rows of `relation` matching each (column, pattern), in one scan."""
    if not checks:
        return []
    filters = ", ".join(
        f'count(*) filter (where regexp_matches("{column}", ?))' for column, _ in checks
    )
    row = con.execute(
        f"select {filters} from {relation}", [pattern for _, pattern in checks]
    ).fetchone()
    return [int(n) for n in row]
