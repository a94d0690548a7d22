"""Faulty rows for the staging layer to catch (--faults RATE): copies of clean rows, each with
exactly one defect, added next to their source row (clean rows are never changed).

Per table, RATE x its clean rows are split evenly over the fault kinds that apply to it (in the
staging layer's check order); generation_manifest.json counts them per table and kind.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

from privseg.datagen.contract import RAW_COLUMNS
from privseg.datagen.reference import (
    CONSENT_SOURCES,
    ERASURE_STATUSES,
    ORDER_STATUSES,
    PREFERRED_CHANNELS,
    PREFERRED_FREQUENCIES,
    PRODUCT_COUNT,
)
from privseg.datagen.sql import sql_list, sql_literal
from privseg.datagen.workspace import Workspace

FAULT_KINDS: tuple[str, ...] = (
    "null_id",
    "wrong_type",
    "unparseable_timestamp",
    "future_timestamp",
    "non_numeric_amount",
    "negative_amount",
    "unknown_enum",
    "orphan_fk",
    "duplicate_id",
)

# Values that DuckDB's try_cast(... AS BIGINT) rejects ('3.5' is NOT used: it casts to 4).
WRONG_TYPE_VALUES = ["n/a", "12x", "one", "#N/A"]
UNPARSEABLE_TIMESTAMPS = ["not a date", "2026-13-45 25:61:00", "31/02/2026 10:00"]
NON_NUMERIC_AMOUNTS = ["12,50 EUR", "abc", "twelve"]
# Ids no clean row has: fresh primary ids for faulty copies, and parents that do not exist.
FRESH_ID_BASE = 800_000_001
ORPHAN_ID_BASE = 900_000_001
ORPHAN = object()  # stands for "an id of no parent" until the ids are handed out

# The faulty row is a copy of a picked clean row, `clean_row` (its raw columns and the table's
# fault helper columns, and `pick_index`, 0.. over the rows picked for one kind).
ROW = "clean_row"


def next_value(values: list[str], column: str) -> str:
    """The value after the row's in `values` (cyclic): always a different one."""
    listed = sql_list(values)
    return f"{listed}[(list_position({listed}, {ROW}.{column}) % {len(values)}) + 1]"


def earlier(column: str, iso: bool = False) -> str:
    """The row's time moved 1-60 minutes earlier (so "latest row wins" keeps the original)."""
    shifted = f"cast({ROW}.{column} as timestamp) - to_seconds(60 + {ROW}.pick_index % 3540)"
    if iso:
        return f"strftime({shifted}, '%Y-%m-%dT%H:%M:%S.%gZ')"
    return f"cast(({shifted}) as varchar)"


@dataclass(frozen=True)
class FaultSpec:
    """Which columns of a raw table play which role, for fault injection."""

    primary_key: str
    timestamp: str | None = None
    timestamp_iso: bool = False  # timestamps written as 'YYYY-MM-DDTHH:MM:SS.mmmZ'
    amount: str | None = None
    enums: list[tuple[str, str]] = field(default_factory=list)  # (column, an unknown value)
    # (column, which compact rows may get an orphan there: SQL over the compact table)
    foreign_keys: list[tuple[str, str]] = field(default_factory=list)
    wrong_type: str = ""  # an integer column that receives a non-integer text
    wrong_type_where: str = "true"
    # duplicate_id: the copy keeps the id and changes these columns ({column: SQL})
    duplicate: dict[str, str] = field(default_factory=dict)


# duplicate_id copies conflict in non-key values; where the table has a timestamp, the copy is
# also slightly older (except preferences: same updated_at, a genuine conflict), and changes never
# break cross-table arithmetic (order totals still equal the sum of their items).
FAULT_SPECS: dict[str, FaultSpec] = {
    "customers": FaultSpec(
        primary_key="customer_id",
        timestamp="signup_at",
        wrong_type="customer_id",
        duplicate={
            "street_address": f"{ROW}.other_street_address",
            "signup_at": earlier("signup_at"),
        },
    ),
    "products": FaultSpec(
        primary_key="product_id",
        amount="list_price",
        wrong_type="product_id",
        duplicate={"product_name": f"{ROW}.product_name || ' v2'"},
    ),
    "orders": FaultSpec(
        primary_key="order_id",
        timestamp="ordered_at",
        amount="total_amount",
        enums=[("status", "refunded?"), ("channel", "pigeon"), ("currency", "BTC")],
        foreign_keys=[("customer_id", "true")],
        wrong_type="customer_id",
        duplicate={
            "status": next_value(ORDER_STATUSES, "status"),
            "ordered_at": earlier("ordered_at"),
        },
    ),
    "order_items": FaultSpec(
        primary_key="order_item_id",
        amount="unit_price",
        foreign_keys=[("order_id", "true"), ("product_id", "true")],
        wrong_type="quantity",
        duplicate={  # another product at the same quantity and price
            "product_id": f"cast((cast({ROW}.product_id as integer) - 1001 + 1 "
            f"+ {ROW}.pick_index % {PRODUCT_COUNT - 1}) % {PRODUCT_COUNT} + 1001 as varchar)",
        },
    ),
    "web_events": FaultSpec(
        primary_key="event_id",
        timestamp="occurred_at",
        timestamp_iso=True,
        enums=[("event_type", "hover"), ("geo_country", "Atlantis")],
        foreign_keys=[("customer_id", "true"), ("product_id", "product_id is not null")],
        wrong_type="customer_id",
        wrong_type_where="customer_id is not null",
        duplicate={
            "ip_address": (
                f"regexp_replace({ROW}.ip_address, '\\.[0-9]+$', '') || '.' || "
                f"cast((cast(split_part({ROW}.ip_address, '.', 4) as integer) % 253) + 1 "
                "as varchar)"
            ),
            "occurred_at": earlier("occurred_at", iso=True),
        },
    ),
    "campaigns": FaultSpec(
        primary_key="campaign_id",
        timestamp="launched_at",
        enums=[("channel", "pigeon"), ("objective", "world_domination")],
        wrong_type="campaign_id",
        duplicate={
            "campaign_name": f"{ROW}.campaign_name || ' (resend)'",
            "launched_at": earlier("launched_at"),
        },
    ),
    "email_events": FaultSpec(
        primary_key="email_event_id",
        timestamp="occurred_at",
        enums=[("event_type", "spam_complaint")],
        foreign_keys=[("campaign_id", "true"), ("customer_id", "true")],
        wrong_type="customer_id",
        duplicate={"occurred_at": earlier("occurred_at")},
    ),
    "consent_events": FaultSpec(
        primary_key="consent_event_id",
        timestamp="recorded_at",
        enums=[("purpose", "tracking"), ("action", "revoked"), ("source", "fax")],
        foreign_keys=[("customer_id", "true")],
        wrong_type="customer_id",
        duplicate={
            "source": next_value(CONSENT_SOURCES, "source"),
            "recorded_at": earlier("recorded_at"),
        },
    ),
    "preferences": FaultSpec(
        primary_key="customer_id",
        timestamp="updated_at",
        enums=[("preferred_channel", "pigeon"), ("preferred_frequency", "hourly")],
        foreign_keys=[("customer_id", "true")],
        wrong_type="customer_id",
        duplicate={
            "preferred_channel": next_value(PREFERRED_CHANNELS, "preferred_channel"),
            "preferred_frequency": next_value(PREFERRED_FREQUENCIES, "preferred_frequency"),
        },
    ),
    "erasure_requests": FaultSpec(
        primary_key="request_id",
        timestamp="requested_at",
        enums=[("status", "lost")],
        foreign_keys=[("customer_id", "true")],
        wrong_type="customer_id",
        duplicate={
            "status": next_value(ERASURE_STATUSES, "status"),
            "requested_at": earlier("requested_at"),
        },
    ),
}


def applicable_kinds(table: str) -> list[str]:
    """Fault kinds that apply to `table`, in the staging layer's check order."""
    spec = FAULT_SPECS[table]
    applies = {
        "null_id": True,
        "wrong_type": True,
        "unparseable_timestamp": spec.timestamp is not None,
        "future_timestamp": spec.timestamp is not None,
        "non_numeric_amount": spec.amount is not None,
        "negative_amount": spec.amount is not None,
        "unknown_enum": bool(spec.enums),
        "orphan_fk": bool(spec.foreign_keys),
        "duplicate_id": True,
    }
    return [kind for kind in FAULT_KINDS if applies[kind]]


@dataclass
class FaultJob:
    """Rows of one kind: how many, which clean rows qualify, what changes, and whether the copy
    gets a fresh primary id (any kind but null_id and duplicate_id, so it is not a duplicate)."""

    kind: str
    rows: int
    where: str
    changes: dict[str, object]
    fresh_id: bool


def _future_timestamp(workspace: Workspace, table: str, spec: FaultSpec) -> str:
    seconds = (
        f"{workspace.params.end_epoch} "
        f"+ (30 + random_int('fut', '{table}', {ROW}.pick_index) % 370) * 86400 "
        f"+ random_int('futs', '{table}', {ROW}.pick_index) % 86400"
    )
    if spec.timestamp_iso:
        return f"timestamp_iso(({seconds}) * 1000)"
    return f"timestamp_text({seconds})"


def _jobs(workspace: Workspace, table: str, per_kind: int) -> list[FaultJob]:
    spec = FAULT_SPECS[table]
    jobs: list[FaultJob] = []
    for kind in applicable_kinds(table):
        if kind == "orphan_fk":  # split this kind's rows across the table's foreign keys
            keys = len(spec.foreign_keys)
            for index, (column, where) in enumerate(spec.foreign_keys):
                rows = per_kind // keys + (1 if index < per_kind % keys else 0)
                if rows:
                    jobs.append(
                        FaultJob(kind, rows, where, {column: ORPHAN}, column != spec.primary_key)
                    )
            continue
        changes: dict[str, object] = {}
        where = "true"
        fresh_id = kind not in ("null_id", "duplicate_id")
        if kind == "null_id":
            changes[spec.primary_key] = (
                f"case {ROW}.pick_index % 3 when 0 then null when 1 then '' else '   ' end"
            )
        elif kind == "wrong_type":
            changes[spec.wrong_type] = f"{sql_list(WRONG_TYPE_VALUES)}[1 + {ROW}.pick_index % 4]"
            where = spec.wrong_type_where
            fresh_id = spec.wrong_type != spec.primary_key
        elif kind == "unparseable_timestamp" and spec.timestamp:
            changes[spec.timestamp] = (
                f"{sql_list(UNPARSEABLE_TIMESTAMPS)}[1 + {ROW}.pick_index % 3]"
            )
        elif kind == "future_timestamp" and spec.timestamp:
            changes[spec.timestamp] = _future_timestamp(workspace, table, spec)
        elif kind == "non_numeric_amount" and spec.amount:
            changes[spec.amount] = f"{sql_list(NON_NUMERIC_AMOUNTS)}[1 + {ROW}.pick_index % 3]"
        elif kind == "negative_amount" and spec.amount:
            changes[spec.amount] = f"'-' || {ROW}.{spec.amount}"
        elif kind == "unknown_enum":
            enums = len(spec.enums)
            for index, (column, unknown) in enumerate(spec.enums):
                changes[column] = (
                    f"case when {ROW}.pick_index % {enums} = {index} "
                    f"then {sql_literal(unknown)} else {ROW}.{column} end"
                )
        elif kind == "duplicate_id":
            changes.update(spec.duplicate)
        jobs.append(FaultJob(kind, per_kind, where, changes, fresh_id))
    return jobs


def inject_faults(workspace: Workspace, table: str) -> dict[str, int]:
    """Insert faulty copies of clean rows into faulty_<table>; return the counts per kind."""
    params = workspace.params
    spec = FAULT_SPECS[table]
    columns = RAW_COLUMNS[table]
    kinds = applicable_kinds(table)
    column_types = ", ".join(f"{column} varchar" for column in columns)
    workspace.run(
        f"create table faulty_{table} ({column_types}, source_sort_key bigint, "
        "fault_sequence bigint, kind varchar)"
    )
    counts = dict.fromkeys(kinds, 0)
    clean = workspace.count(f"compact_{table}")
    if params.fault_rate <= 0 or clean == 0:
        return counts
    per_kind = math.ceil(Fraction(str(params.fault_rate)) * clean / len(kinds))
    if table == "preferences":
        # A "fresh" primary id for preferences is a real customer without preferences.
        workspace.run("""
            create table customers_without_preferences as
            select
                row_number() over (
                    order by random_int('pfree', compact_customers.customer_id, 0),
                    compact_customers.customer_id
                ) - 1 as free_index,
                cast(compact_customers.customer_id as varchar) as customer_id_text
            from compact_customers
            anti join compact_preferences
                on compact_preferences.customer_id = compact_customers.customer_id
        """)

    fresh_next, orphan_next, fresh_used, sequence = FRESH_ID_BASE, ORPHAN_ID_BASE, 0, 0
    helpers = workspace.fault_helpers[table]
    for job in _jobs(workspace, table, per_kind):
        changes = dict(job.changes)
        join = ""
        for column, change in list(changes.items()):
            if change is ORPHAN:
                changes[column] = f"cast({orphan_next} + {ROW}.pick_index as varchar)"
                orphan_next += job.rows
        if job.fresh_id:
            if table == "preferences":
                changes[spec.primary_key] = "free_ids.customer_id_text"
                join = (
                    "inner join customers_without_preferences as free_ids "
                    f"on free_ids.free_index = {fresh_used} + {ROW}.pick_index"
                )
                fresh_used += job.rows
            else:
                changes[spec.primary_key] = f"cast({fresh_next} + {ROW}.pick_index as varchar)"
                fresh_next += job.rows
        selected = ", ".join(f"{changes.get(c, f'{ROW}.{c}')} as {c}" for c in columns)
        # The salt names the kind and the columns it changes: each job picks its own rows.
        salt = f"{table}:{job.kind}:{'/'.join(sorted(changes))}"
        # Pick the rows by hash on the compact table, render only those rows.
        workspace.run(f"""
            insert into faulty_{table}
            with picked as (
                select
                    sort_key,
                    row_number() over (order by pick_hash, sort_key) - 1 as pick_index
                from (
                    select
                        sort_key,
                        random_int('fault', '{salt}', sort_key) as pick_hash
                    from compact_{table}
                    where {job.where}
                    order by pick_hash, sort_key
                    limit {job.rows}
                )
            ),

            {ROW}s as (
                select
                    {workspace.rendered[table]}{", " if helpers else ""}{helpers},
                    compact.sort_key,
                    picked.pick_index
                from compact_{table} as compact
                inner join picked
                    on picked.sort_key = compact.sort_key
            )

            select
                {selected},
                {ROW}.sort_key as source_sort_key,
                {sequence + 1} + {ROW}.pick_index as fault_sequence,
                '{job.kind}' as kind
            from {ROW}s as {ROW}
            {join}
        """)
        sequence += job.rows
    for kind, rows in workspace.con.execute(
        f"select kind, count(*) from faulty_{table} group by kind"
    ).fetchall():
        counts[str(kind)] = int(rows)
    return counts
