"""Which tables can hold something about a person, read from the dbt manifest: no table is
named here, so a new model is covered as soon as its yml classifies its columns.

A model holds a subject directly when one of its columns is the subject's pseudonym: a column
classified `pseudonym` (meta.privacy.classification) named `customer_key`, the project's
pseudonym of a customer (`<entity>_key`, docs/architecture.md), or one that declares
`meta.privacy.pseudonym_of: customer` under another name. Other pseudonym columns
(`order_key`, `session_key`, ...) link rows to a subject indirectly: a model that holds only
those (order lines by `order_key`) is read for the values found in the subject's own rows.
Staging is not searched: it is the raw layer with types, and it holds identities, not
pseudonyms.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import duckdb

from privseg.core.manifest import models, privacy_meta, relation

SUBJECT_ENTITY = "customer"
SUBJECT_KEY = f"{SUBJECT_ENTITY}_key"
SEARCHED_LAYERS_EXCLUDE = ("staging",)


@dataclass(frozen=True)
class SubjectTable:
    """A model that can hold rows about one subject, and how they are found."""

    name: str
    unique_id: str
    relation: str
    layer: str
    subject_columns: tuple[str, ...]  # the subject's own pseudonym
    link_columns: tuple[str, ...]  # pseudonyms of other entities (orders, sessions, ...)

    @property
    def holds_subject_key(self) -> bool:
        return bool(self.subject_columns)


def pseudonym_entity(name: str, column: dict) -> str | None:
    """The entity a pseudonym column stands for, or None if the column is no pseudonym."""
    meta = privacy_meta(column)
    if meta.get("classification") != "pseudonym":
        return None
    if meta.get("pseudonym_of"):
        return str(meta["pseudonym_of"])
    return name.removesuffix("_key") if name.endswith("_key") else name


def subject_tables(manifest: dict) -> list[SubjectTable]:
    """Every model past staging with a pseudonym column, by name."""
    found = []
    for node in models(manifest):
        layer = privacy_meta(node).get("layer") or ""
        if layer in SEARCHED_LAYERS_EXCLUDE:
            continue
        subject, links = [], []
        for name, column in node["columns"].items():
            entity = pseudonym_entity(name, column)
            if entity == SUBJECT_ENTITY:
                subject.append(name)
            elif entity is not None:
                links.append(name)
        if subject or links:
            found.append(
                SubjectTable(
                    name=node["name"],
                    unique_id=node["unique_id"],
                    relation=relation(node),
                    layer=layer,
                    subject_columns=tuple(subject),
                    link_columns=tuple(links),
                )
            )
    return found


def tables_holding(
    con: duckdb.DuckDBPyConnection, pseudonyms: Iterable[str], exclude_schemas=("staging",)
) -> dict[str, list[str]]:
    """Where the warehouse actually holds any of `pseudonyms`: table name -> text columns with
    at least one of them, whatever the yml says (every table of every schema but staging's).
    The check behind "a model holding a subject key is covered": compare with subject_tables.
    Returns names only, never a value."""
    con.execute("create or replace temp table access_probe (pseudonym varchar)")
    con.executemany("insert into access_probe values (?)", [[p] for p in set(pseudonyms)])
    columns = con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_catalog = current_database() and data_type = 'VARCHAR' "
        "and table_schema not in (select unnest(?::varchar[])) "
        "order by table_schema, table_name, column_name",
        [list(exclude_schemas)],
    ).fetchall()
    found: dict[str, list[str]] = {}
    for schema, table, column in columns:
        (hit,) = con.execute(
            f'select exists (select 1 from "{schema}"."{table}" as t '
            f'join access_probe as p on t."{column}" = p.pseudonym)'
        ).fetchone()
        if hit:
            found.setdefault(table, []).append(column)
    con.execute("drop table access_probe")
    return found


def uncovered(found: dict[str, list[str]], tables: list[SubjectTable]) -> list[str]:
    """'<table>.<column>' holding subject pseudonyms that subject_tables() does not search by."""
    searched = {(t.name, c) for t in tables for c in t.subject_columns}
    return sorted(
        f"{table}.{column}"
        for table, columns in found.items()
        for column in columns
        if (table, column) not in searched
    )
