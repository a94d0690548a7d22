"""What the export reads from the warehouse (opened read-only): segment definitions, members,
grants, the build's key fingerprint and as-of date, and customer ids with their email address.

Errors are reported as one line naming tables, columns and files, never a value."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb

from privseg.core.keys import KEY_ENV_VAR
from privseg.export.audience import BEHAVIOUR_PURPOSE, ExportError, Member

REQUIRED_RELATIONS = (
    "segments.segment_definitions",
    "segments.fct_segment_membership",
    "consent.int_consented_subjects",
    "staging.stg_shop__customers",
    "pseudonymized.int_pseudonym_key_registry",
    "audiences.int_email_contact_schedule",
    "audiences.fct_stated_interest_audience",
)
# Read by a triggered audience's export (--trigger) only.
TRIGGER_RELATIONS = ("audiences.trigger_definitions", "audiences.fct_triggered_audience")
FETCH_BATCH_ROWS = 100_000
BUILD_FIRST = "build it first with `make run` (or `dbt build`)"


def open_warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    if not path.is_file():
        raise ExportError(f"warehouse {path} not found: {BUILD_FIRST}, or set WAREHOUSE_PATH")
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as error:
        if "lock" in str(error).lower():
            raise ExportError(
                f"warehouse {path} is being written by another process (a build?); "
                "try again when it has finished",
                code=1,
            ) from None
        raise ExportError(f"cannot open warehouse {path}: {first_line(error)}") from None


def missing_relations(
    con: duckdb.DuckDBPyConnection, required: tuple[str, ...] = REQUIRED_RELATIONS
) -> list[str]:
    present = {
        f"{schema}.{name}"
        for schema, name in con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
    }
    return [relation for relation in required if relation not in present]


def check_key_built_warehouse(con: duckdb.DuckDBPyConnection, fingerprint: str, path: Path) -> None:
    """Refuse a key other than the build's: its pseudonyms would match no member at all."""
    stored = sorted(
        {
            row[0]
            for row in con.execute(
                "select key_fingerprint from pseudonymized.int_pseudonym_key_registry"
            ).fetchall()
        }
    )
    if not stored:
        raise ExportError(
            f"warehouse {path} records no key fingerprint of its build: rebuild it with "
            "`make run` (or `dbt build`)"
        )
    if stored != [fingerprint]:
        raise ExportError(
            f"the pseudonymization key differs from the one that built {path} (key "
            f"fingerprint {', '.join(stored)}, given {fingerprint}): set {KEY_ENV_VAR} to the "
            "key of that build"
        )


def read_definitions(con: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    rows = con.execute(
        "select segment_name, activation_purposes from segments.segment_definitions"
    ).fetchall()
    return dict(rows)


# Per member: a grant for the export's purpose, the analytics grant, and due for contact (the
# contact schedule holds every subject with a marketing_email grant; anyone else has no stated
# frequency of theirs to honour).
_MEMBER_STATUS = """
    select distinct
        members.customer_key,
        exists (
            select 1 from consent.int_consented_subjects as consented
            where consented.customer_key = members.customer_key
                and consented.consent_purpose = $purpose
        ) as has_grant,
        exists (
            select 1 from consent.int_consented_subjects as consented
            where consented.customer_key = members.customer_key
                and consented.consent_purpose = $behaviour_purpose
        ) as has_analytics,
        coalesce((
            select schedule.is_contact_due from audiences.int_email_contact_schedule as schedule
            where schedule.customer_key = members.customer_key
        ), true) as is_due
    from ({members}) as members
"""


def _members(con: duckdb.DuckDBPyConnection, members_sql: str, parameters: dict) -> list[Member]:
    rows = con.execute(
        _MEMBER_STATUS.format(members=members_sql),
        {**parameters, "behaviour_purpose": BEHAVIOUR_PURPOSE},
    ).fetchall()
    return [Member(*row) for row in rows]


def read_members(con: duckdb.DuckDBPyConnection, segment: str, purpose: str) -> list[Member]:
    """The segment's members and what decides their export."""
    return _members(
        con,
        "select customer_key from segments.fct_segment_membership where segment_name = $segment",
        {"segment": segment, "purpose": purpose},
    )


def read_interest_members(
    con: duckdb.DuckDBPyConnection, interest: str, purpose: str
) -> list[Member]:
    """The members of a stated-interest audience and what decides their export."""
    return _members(
        con,
        "select customer_key from audiences.fct_stated_interest_audience "
        "where interest = $interest",
        {"interest": interest, "purpose": purpose},
    )


def read_trigger_definitions(con: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    """trigger_type -> consent_purposes (space-separated) of the seed trigger_definitions."""
    rows = con.execute(
        "select trigger_type, consent_purposes from audiences.trigger_definitions"
    ).fetchall()
    return dict(rows)


def read_trigger_members(
    con: duckdb.DuckDBPyConnection, trigger: str, purpose: str
) -> list[Member]:
    """The customers the trigger feed holds for `trigger` and what decides their export."""
    return _members(
        con,
        "select customer_key from audiences.fct_triggered_audience where trigger_type = $trigger",
        {"trigger": trigger, "purpose": purpose},
    )


def read_as_of_date(con: duckdb.DuckDBPyConnection) -> date | None:
    """The build's as-of date: the membership's, else the key registry's."""
    (as_of,) = con.execute(
        "select coalesce("
        "(select max(as_of_date) from segments.fct_segment_membership), "
        "(select max(as_of_date) from pseudonymized.int_pseudonym_key_registry))"
    ).fetchone()
    return as_of


def read_contacts(con: duckdb.DuckDBPyConnection) -> Iterator[tuple[object, str | None]]:
    """(customer_id, email) of customers with an address; no other personal column is read."""
    cursor = con.execute(
        "select customer_id, email from staging.stg_shop__customers where email is not null"
    )
    while batch := cursor.fetchmany(FETCH_BATCH_ROWS):
        yield from batch


def warehouse_error(error: duckdb.Error, warehouse: Path) -> ExportError:
    """One line for a failed query. Only catalog, binder and I/O errors (names of tables,
    columns and files) are quoted: others, such as conversion errors, can quote values."""
    if isinstance(error, duckdb.CatalogException | duckdb.BinderException):
        return ExportError(
            f"warehouse {warehouse} does not have the tables or columns the export reads "
            f"({first_line(error)}): rebuild it with `make run` (or `dbt build`)"
        )
    if isinstance(error, duckdb.IOException):
        return ExportError(
            f"reading warehouse {warehouse} failed ({first_line(error)}); check RAW_DATA_DIR, "
            "which the staging views read",
            code=1,
        )
    return ExportError(
        f"reading warehouse {warehouse} failed with a {type(error).__name__} (details not shown: "
        "they could quote personal data); rebuild it with `make run` and try again",
        code=1,
    )


def first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
