"""What the warehouse holds about one subject: the rows of every table that carries their
pseudonym, then the rows linked to those by another pseudonym (the lines of their orders).

Read-only queries with the pseudonyms bound as parameters; nothing is logged."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import duckdb

from privseg.access.discovery import SubjectTable


@dataclass
class HeldRows:
    """The rows one table holds about the subject, with the columns that found them."""

    table: SubjectTable
    columns: list[str]
    rows: list[dict[str, Any]]
    found_by: list[str] = field(default_factory=list)


def json_value(value: Any) -> Any:
    """A warehouse value as JSON: dates as ISO text, decimals as numbers, lists and structs
    element by element."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    return value


def _select(
    con: duckdb.DuckDBPyConnection, table: SubjectTable, by: dict[str, Iterable[str]]
) -> tuple[list[str], list[tuple]]:
    """Rows of `table` where any column of `by` holds one of its values."""
    conditions, parameters = [], []
    for column, values in by.items():
        values = sorted(set(values))
        if not values:
            continue
        conditions.append(f'"{column}" in (select unnest(?::varchar[]))')
        parameters.append(values)
    if not conditions:
        return [], []
    cursor = con.execute(
        f"select * from {table.relation} where {' or '.join(conditions)}", parameters
    )
    columns = [d[0] for d in cursor.description]
    return columns, cursor.fetchall()


def collect(
    con: duckdb.DuckDBPyConnection, tables: list[SubjectTable], subject_key: str
) -> list[HeldRows]:
    """Every table's rows about the subject whose pseudonym is `subject_key`, by table name.

    First the tables that carry the subject's pseudonym; then, until nothing new turns up, the
    tables that carry a pseudonym of another entity found in the subject's rows (an order's
    lines by its order_key). A table with no row about the subject is left out."""
    held: dict[str, HeldRows] = {}
    links: dict[str, set[str]] = {}

    def add(table: SubjectTable, columns: list[str], rows: list[tuple], found_by: list[str]):
        if not rows:
            return False
        records = [dict(zip(columns, map(json_value, row), strict=True)) for row in rows]
        held[table.name] = HeldRows(table, columns, records, found_by)
        for column in table.link_columns:
            links.setdefault(column, set()).update(
                r[column] for r in records if isinstance(r.get(column), str)
            )
        return True

    for table in tables:
        if table.holds_subject_key:
            columns, rows = _select(con, table, {c: [subject_key] for c in table.subject_columns})
            add(table, columns, rows, list(table.subject_columns))
    searched: dict[str, frozenset] = {}
    changed = True
    while changed:
        changed = False
        for table in tables:
            if table.holds_subject_key or not table.link_columns:
                continue
            by = {c: links.get(c, set()) for c in table.link_columns}
            signature = frozenset((c, len(v)) for c, v in by.items())
            if searched.get(table.name) == signature:
                continue
            searched[table.name] = signature
            columns, rows = _select(con, table, by)
            found_by = [c for c, values in by.items() if values]
            if add(table, columns, rows, found_by):
                changed = True
    return [held[t.name] for t in tables if t.name in held]
