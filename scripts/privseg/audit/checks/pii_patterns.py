"""pii_patterns: no text past staging that looks like an email address, a phone number or an
IP address, whatever its column is called or classified as."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from privseg.audit.catalog import text_columns
from privseg.audit.context import AuditRun

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

# What is blanked out of a value before a pattern is matched: the digit groups of a UUID (dbt's
# invocation ids, kept as build and release ids) read as a phone number now and then
# ("…-0123-4567-8901-…"), so UUIDs are removed before the phone pattern runs. Only for phone:
# an email address may well have a UUID for its local part.
UUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
MASKED_BEFORE = {"phone": UUID}


@dataclass(frozen=True)
class PatternMatch:
    """Rows of a column that match one pattern (a count, never the values)."""

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
    # then each pattern only on the columns that matched it: about 4x less regex work. The
    # first pass is a superset (nothing masked); masks apply in the second.
    combined = "|".join(f"({pattern})" for pattern in PII_PATTERNS.values())
    found = []
    for (schema, table), names in columns.items():
        relation = f'"{schema}"."{table}"'
        hits = _count_matches(con, relation, [(column, combined, None) for column in names])
        suspects = [column for column, n in zip(names, hits, strict=True) if n]
        checks = [(column, pattern) for column in suspects for pattern in PII_PATTERNS]
        counts = _count_matches(
            con,
            relation,
            [
                (column, PII_PATTERNS[pattern], MASKED_BEFORE.get(pattern))
                for column, pattern in checks
            ],
        )
        found += [
            PatternMatch(f"{schema}.{table}", column, pattern, n)
            for (column, pattern), n in zip(checks, counts, strict=True)
            if n
        ]
    return found


def _count_matches(
    con: duckdb.DuckDBPyConnection, relation: str, checks: list[tuple[str, str, str | None]]
) -> list[int]:
    """Rows of `relation` matching each (column, pattern, mask), in one scan; what matches
    `mask` is blanked out of the value first."""
    if not checks:
        return []
    filters, parameters = [], []
    for column, pattern, mask in checks:
        value = f'"{column}"'
        if mask is not None:
            value = f"regexp_replace({value}, ?, ' ', 'g')"
            parameters.append(mask)
        filters.append(f"count(*) filter (where regexp_matches({value}, ?))")
        parameters.append(pattern)
    row = con.execute(f"select {', '.join(filters)} from {relation}", parameters).fetchone()
    return [int(n) for n in row]


def run(audit: AuditRun) -> list[str]:
    return [
        f"{match.relation}.{match.column}: {match.matches} rows look like {match.pattern} values"
        for match in scan_for_pii_patterns(audit.connection)
    ]
