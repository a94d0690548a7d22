"""The partitioned layout: raw data as it arrives, one folder of files per load day.

`--layout partitioned` writes each raw table as ``<table>/load_date=YYYY-MM-DD/part-0.parquet``
instead of ``<table>.parquet``: the rows a source system exported on that day. Which load a row
lands in is decided here, from the row's own time and its parents', deterministically:

- a row with a time (signup, order, event, consent, request, update) lands the day after it,
  except about LATE_SHARE of the event rows, which land LATE_DAYS_MAX days later at most (late
  data: a new load holds rows for earlier days);
- a row never lands before a row it refers to (an order not before its customer, an order item
  with its order, an email event not before its campaign), so a complete set of loads has no
  orphan a clean generation would not have;
- a faulty copy lands with its source row; rows from before the behavioural window (customers who
  signed up earlier, the product catalogue) land in the first load, the window's first day.

`--hold-back-days K` leaves the last K loads unwritten; `--append-day` then writes the next load
from the same generation (same arguments, same rows), as a source system would deliver it.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from privseg.datagen.contract import RAW_COLUMNS
from privseg.datagen.faults import applicable_kinds
from privseg.datagen.workspace import Workspace

# Share of event rows that land late, and by how many extra days at most. Late rows stay within
# the behavioural facts' default lookback (var behavior_lookback_days: 3).
LATE_SHARE = 0.03
LATE_DAYS_MAX = 3

# Per table: the column whose day decides the load (None: the first load), whether its rows may
# land late, and its references to tables written earlier (column, parent table, parent key).
LOAD_RULES: dict[str, tuple[str | None, bool, list[tuple[str, str, str]]]] = {
    "customers": ("signup_at", False, []),
    "products": (None, False, []),
    "orders": ("ordered_at", True, [("customer_id", "customers", "customer_id")]),
    "order_items": (None, False, [("order_id", "orders", "order_id")]),
    "web_events": ("occurred_at", True, [("customer_id", "customers", "customer_id")]),
    "campaigns": ("launched_at", False, []),
    "email_events": (
        "occurred_at",
        True,
        [
            ("campaign_id", "campaigns", "campaign_id"),
            ("customer_id", "customers", "customer_id"),
        ],
    ),
    "consent_events": ("recorded_at", True, [("customer_id", "customers", "customer_id")]),
    "preferences": ("updated_at", False, [("customer_id", "customers", "customer_id")]),
    "erasure_requests": ("requested_at", False, [("customer_id", "customers", "customer_id")]),
}
# Tables other tables refer to: their load day per id is kept for the referring tables.
PARENTS = {"customers": "customer_id", "orders": "order_id", "campaigns": "campaign_id"}


def first_load(workspace: Workspace) -> date:
    """The first load day: the window's first day (it holds everything from before it)."""
    return workspace.params.end_date - timedelta(days=workspace.params.days)


def last_possible_load(end_date: date) -> date:
    """The last day a load can hold rows: late rows of the data's last day."""
    return end_date + timedelta(days=LATE_DAYS_MAX)


def assign_loads(workspace: Workspace, table: str, rows_query: str) -> None:
    """Create table loaded_<table>: the rows of `rows_query` (raw columns, source_sort_key,
    fault_sequence, kind) with the load_date each lands in."""
    column, may_be_late, references = LOAD_RULES[table]
    first = first_load(workspace).isoformat()
    if column is None:
        own_day = f"date '{first}'"
    else:
        # The day of the source row's time: a faulty copy (unparseable or future time) lands
        # with the clean row it copies, which has fault_sequence 0 in the same source_sort_key.
        late = (
            f"case when random_uniform('late_load', source_sort_key) < {LATE_SHARE} "
            f"then 1 + cast(random_int('late_days', source_sort_key, 0) % {LATE_DAYS_MAX} "
            "as integer) else 0 end"
            if may_be_late
            else "0"
        )
        own_day = (
            "greatest("
            f"cast(try_cast(left(first_value({column}) over source_row, 10) as date) "
            f"+ 1 + {late} as date), date '{first}')"
        )
    joins, parent_days = [], []
    for index, (fk_column, parent, parent_key) in enumerate(references):
        alias = f"parent_{index}"
        joins.append(
            f"left join load_days_{parent} as {alias} on {alias}.{parent_key} = rows.{fk_column}"
        )
        parent_days.append(f"{alias}.load_date")
    load_day = f"greatest({', '.join([own_day, *parent_days])})" if parent_days else own_day
    columns = ", ".join(f"rows.{c}" for c in RAW_COLUMNS[table])
    workspace.run(f"""
        create table loaded_{table} as
        select
            {columns},
            rows.source_sort_key,
            rows.fault_sequence,
            rows.kind,
            {load_day} as load_date
        from ({rows_query}) as rows
        {" ".join(joins)}
        window source_row as (partition by rows.source_sort_key order by rows.fault_sequence)
        order by load_date, rows.source_sort_key, rows.fault_sequence
    """)
    if table in PARENTS:
        key = PARENTS[table]
        # Clean rows only: the load day of the row a reference resolves to.
        workspace.run(f"""
            create table load_days_{table} as
            select {key}, min(load_date) as load_date
            from loaded_{table}
            where kind is null
            group by {key}
        """)


def load_counts(workspace: Workspace, table: str, first: date, last: date) -> dict[str, object]:
    """Rows, clean rows and faults per kind of loaded_<table> in the loads first..last."""
    where = f"load_date between date '{first.isoformat()}' and date '{last.isoformat()}'"
    total, clean = workspace.con.execute(
        f"select count(*), count(*) filter (where kind is null) from loaded_{table} where {where}"
    ).fetchone()
    faults = dict.fromkeys(applicable_kinds(table), 0)
    faults |= {
        str(kind): int(rows)
        for kind, rows in workspace.con.execute(
            f"select kind, count(*) from loaded_{table} where {where} and kind is not null "
            "group by kind order by kind"
        ).fetchall()
    }
    return {"rows_clean": int(clean), "rows_total": int(total), "faults": faults}


def write_loads(workspace: Workspace, table: str, folder: Path, first: date, last: date) -> int:
    """Write the loads first..last of loaded_<table> under `folder` as
    load_date=YYYY-MM-DD/part-0.parquet (rows in id order, a faulty row next to its source row);
    return the rows written. A day without rows for the table gets no folder."""
    columns = ", ".join(RAW_COLUMNS[table])
    days = [
        day
        for (day,) in workspace.con.execute(
            f"select distinct load_date from loaded_{table} "
            f"where load_date between date '{first.isoformat()}' and date '{last.isoformat()}' "
            "order by load_date"
        ).fetchall()
    ]
    written = 0
    for day in days:
        # One file per load, written from a sorted query (a partitioned COPY would not keep
        # the order): the same arguments give byte-identical files.
        load = folder / f"load_date={day.isoformat()}"
        load.mkdir(parents=True)
        target = str(load / "part-0.parquet").replace("'", "''")
        workspace.run(f"""
            copy (
                select {columns}
                from loaded_{table}
                where load_date = date '{day.isoformat()}'
                order by source_sort_key, fault_sequence
            ) to '{target}' (format parquet, compression zstd, compression_level 1)
        """)
        written += workspace.count(f"loaded_{table} where load_date = date '{day.isoformat()}'")
    return written
