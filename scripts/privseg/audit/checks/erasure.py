"""erasure: no pseudonym of a subject with an accepted erasure request in any table past
staging, the pseudonyms computed here from the requests and the key."""

from __future__ import annotations

import duckdb

from privseg.audit.catalog import text_columns
from privseg.audit.context import AuditRun
from privseg.core.keys import pseudonymizer


def erased_customer_keys(con: duckdb.DuckDBPyConnection, key: bytes) -> list[str]:
    """Pseudonyms of every subject with an accepted erasure request (the tombstones), computed
    here from the staged requests and the key, not read from a table the build wrote."""
    pseudonym = pseudonymizer(key)
    return [
        pseudonym(customer_id)
        for (customer_id,) in con.execute(
            "select distinct customer_id from staging.stg_preference_center__erasure_requests "
            "where request_status in ('received', 'completed') and customer_id is not null"
        ).fetchall()
    ]


def check_erasure(
    con: duckdb.DuckDBPyConnection, tombstones: list[str], counts: dict[str, int]
) -> list[str]:
    """Every text column of every table past staging: rows holding an erased subject's
    pseudonym. Fills `counts` (tombstones, rows found) for the report."""
    counts.update(tombstones=len(tombstones), found_after_erasure=0)
    if not tombstones:
        return []
    con.execute("create or replace temp table audit_tombstones (customer_key varchar)")
    con.executemany("insert into audit_tombstones values (?)", [[t] for t in tombstones])
    findings = []
    for schema, table, column in text_columns(con, ("staging",)):
        (rows,) = con.execute(
            f'select count(*) from "{schema}"."{table}" as scanned '
            f'where scanned."{column}" in (select customer_key from audit_tombstones)'
        ).fetchone()
        if rows:
            counts["found_after_erasure"] += rows
            findings.append(f"{schema}.{table}.{column}: {rows} rows of erased subjects")
    return findings


def run(audit: AuditRun) -> list[str]:
    con = audit.connection
    tombstones = erased_customer_keys(con, audit.key.encode())
    return check_erasure(con, tombstones, audit.erasure_counts)
