"""The daily run: a warehouse built on N days of loads, then given one more day (late rows for
earlier days, a withdrawal, an erasure, a new grant, a quarantined row) and a changed old raw
file, and built incrementally, equals a build from scratch (--full-refresh) of the same raw
data, row for row, in every table; the erased subject is gone from the tables and the file's
bytes, and the quarantine counts are the generator's plus the row added."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from dbt_harness import WITHOUT_UNIT_TESTS, DbtProject, customer_key
from privseg.core.warehouse import compact_database
from privseg.datagen import cli as generate_data

END_DATE = "2026-06-30"
FIRST_AS_OF = "2026-06-29"
NEW_LOAD = "load_date=2026-06-30"


# Columns that record the run itself, by design: when the key registry was built, and which run
# first fulfilled an erasure request (the log keeps that date; a rebuild must not rewrite it).
RUN_HISTORY_COLUMNS = {
    "int_pseudonym_key_registry": "built_at",
    "int_erasure_log": "fulfilled_date, is_overdue",
}


def _add_rows(raw: Path, table: str, rows_sql: str) -> None:
    """A second file in the new load's folder of `table` (rows as raw text columns)."""
    folder = raw / table / NEW_LOAD
    folder.mkdir(exist_ok=True)
    first = next(raw.glob(f"{table}/*/part-0.parquet"))
    duckdb.sql(
        f"copy ((select * from read_parquet('{first}', hive_partitioning = false) limit 0) "
        f"union all {rows_sql}) "
        f"to '{folder / 'part-1.parquet'}' (format parquet)"
    )


def _tables(warehouse: Path) -> list[tuple[str, str]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "select schema_name, table_name from duckdb_tables() "
            # what each run saw and which run wrote the warehouse last: records of the run
            "where not temporary and table_name not in ('raw_file_changes', 'dbt_build_id') "
            "order by 1, 2"
        ).fetchall()


@pytest.fixture(scope="module")
def daily(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("daily")
    raw = root / "raw"
    argv = ["--customers", "250", "--days", "60", "--seed", "5", "--faults", "0.02"]
    assert generate_data.main(
        [*argv, "--end-date", END_DATE, "--layout", "partitioned", "--hold-back-days", "1",
         "--out", str(raw)]
    ) == 0  # fmt: skip
    incremental = DbtProject(root / "incremental", raw)
    incremental.root.mkdir()
    incremental.extra_env["DUCKDB_FORCE_COMPRESSION"] = "uncompressed"
    first = incremental.dbt("build", *WITHOUT_UNIT_TESTS, as_of=FIRST_AS_OF)
    assert first.success, first.output[-3000:]

    # The next day's load, with late rows for earlier days.
    assert generate_data.main(["--append-day", "--out", str(raw)]) == 0
    manifest = json.loads((raw / "generation_manifest.json").read_text())
    late = duckdb.sql(
        f"select count(*) from read_parquet('{raw}/web_events/{NEW_LOAD}/*.parquet') "
        "where occurred_at < '2026-06-29'"
    ).fetchall()[0][0]

    # A withdrawal, a new grant, an erasure and a quarantined row in the same load.
    # Analytics scope (the behavioural marts'); every customer is in scope of a purpose on
    # legitimate interest (contextual_advertising) unless they objected.
    analytics = {
        key
        for (key,) in incremental.query(
            "select customer_key from consent.int_consented_subjects "
            "where consent_purpose = 'analytics'"
        )
    }
    buyers = [
        cid
        for (cid,) in incremental.query(
            "select distinct customer_id from staging.stg_shop__orders order by 1"
        )
    ]
    withdrawn = next(c for c in buyers if customer_key(c) in analytics)
    erased = next(c for c in buyers if c != withdrawn and customer_key(c) in analytics)
    granted = next(c for c in buyers if customer_key(c) not in analytics)
    _add_rows(
        raw,
        "consent_events",
        f"select '990000001', '{withdrawn}', 'analytics', 'withdrawn', 'preference_center', '3', "
        f"'2026-06-29 10:00:00' union all "
        f"select '990000002', '{granted}', 'analytics', 'granted', 'preference_center', '3', "
        f"'2026-06-29 11:00:00'",
    )
    _add_rows(
        raw,
        "erasure_requests",
        f"select '990000003', '{erased}', '2026-06-29 12:00:00', 'received'",
    )
    _add_rows(
        raw,
        "orders",
        f"select '990000004', '{granted}', '2026-06-29 13:00:00', 'teleported', 'web', 'EUR', "
        "'10.00', '10115', '1234'",
    )
    # An old file changed at its source (outside the facts' lookback): one order cancelled.
    old = sorted((raw / "orders").iterdir())[5] / "part-0.parquet"
    duckdb.sql(
        f"copy (select * replace (case when row_number() over () = 1 then 'cancelled' "
        f"else status end as status) from read_parquet('{old}', hive_partitioning = false)) "
        f"to '{old}.next' "
        "(format parquet)"
    )
    Path(f"{old}.next").replace(old)

    second = incremental.dbt("build", *WITHOUT_UNIT_TESTS, as_of=END_DATE)
    assert second.success, second.output[-3000:]
    full = DbtProject(root / "full", raw)
    full.root.mkdir()
    full.extra_env["DUCKDB_FORCE_COMPRESSION"] = "uncompressed"
    rebuilt = full.dbt("build", "--full-refresh", *WITHOUT_UNIT_TESTS, as_of=END_DATE)
    assert rebuilt.success, rebuilt.output[-3000:]
    return {
        "incremental": incremental,
        "full": full,
        "output": second.output,
        "manifest": manifest,
        "late": late,
        "erased": erased,
        "withdrawn": withdrawn,
        "granted": granted,
        "old_file": old,
    }


def test_the_new_load_holds_late_rows_and_the_changed_file_is_named(daily):
    assert daily["late"] > 0, "no late row in the appended load: the scenario proves less"
    name = f"{daily['old_file'].parent.name}/part-0.parquet"
    assert f"raw file orders/{name} changed since it was read" in daily["output"]


def test_incremental_equals_full_refresh_row_for_row_in_every_table(daily):
    incremental, full = daily["incremental"], daily["full"]
    tables = _tables(incremental.warehouse)
    assert tables == _tables(full.warehouse)
    assert len(tables) > 40
    con = duckdb.connect()
    con.execute(f"attach '{incremental.warehouse}' as inc (read_only)")
    con.execute(f"attach '{full.warehouse}' as ful (read_only)")
    differ = []
    for schema, table in tables:
        for a, b in (("inc", "ful"), ("ful", "inc")):
            columns = (
                f"* exclude ({RUN_HISTORY_COLUMNS[table]})" if table in RUN_HISTORY_COLUMNS else "*"
            )
            (rows,) = con.execute(
                f'select count(*) from (select {columns} from {a}."{schema}"."{table}" '
                f'except all select {columns} from {b}."{schema}"."{table}")'
            ).fetchone()
            if rows:
                differ.append(f"{schema}.{table}: {rows} rows only in {a}")
    assert not differ, "\n".join(differ)


def test_the_day_took_effect_withdrawal_grant_and_erasure(daily):
    incremental = daily["incremental"]
    in_analytics = {
        key
        for (key,) in incremental.query(
            "select customer_key from consent.int_consented_subjects "
            "where consent_purpose = 'analytics'"
        )
    }
    assert customer_key(daily["withdrawn"]) not in in_analytics
    assert customer_key(daily["granted"]) in in_analytics
    assert customer_key(daily["erased"]) not in {
        key
        for (key,) in incremental.query("select customer_key from consent.int_consented_subjects")
    }


def test_the_erased_subject_is_gone_from_the_file_bytes(daily):
    for project in (daily["incremental"], daily["full"]):
        compact_database(project.warehouse)
        data = project.warehouse.read_bytes()
        assert customer_key(daily["erased"]).encode() not in data


def test_quarantine_counts_are_the_manifests_plus_the_row_added(daily):
    expected = {
        (table, kind): count
        for table, spec in daily["manifest"]["tables"].items()
        for kind, count in spec["faults"].items()
        if count
    }
    expected[("orders", "unknown_enum")] = expected.get(("orders", "unknown_enum"), 0) + 1
    for project in (daily["incremental"], daily["full"]):
        counted = {
            (table, reason): count
            for table, reason, count in project.query(
                "select source_table, reject_reason, rejected_row_count "
                "from staging.stg_quarantine__summary"
            )
        }
        assert counted == expected
