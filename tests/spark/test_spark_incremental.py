"""An incremental Spark run equals a full refresh, and keeps the erasure and consent guarantees.

Spark builds staging, pseudonymized, consent and the behaviour event facts on day N
(partitioned raw layout, one load held back), is given day N+1 (late rows for earlier days, a
consent withdrawal, an erasure request) and runs again as of N+1 without --full-refresh
(incremental_job.py): the typed_ tables read only the new files (a partition per source file),
the purge overwrites the partitions holding the erased subject's rows, the event-dated tables
that append delete their late-data window and append (delete_where), and the models keyed by
subject are rebuilt by their full_refresh config (keyed_full_refresh). Every relation of these
layers then equals, row for row both ways, a DuckDB --full-refresh build of the same raw data
as of N+1 (the tier's equality test shows a Spark build equals DuckDB's; this compares with
DuckDB's full refresh because it is cheaper than a second Spark build). The erased subject's
email is in no file of Spark's warehouse; after one more erasure request, read by a copy of the
project whose Spark purge is disabled, that subject's email stays. Counts and file names only,
never values."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from incremental_job import LAYERS, SCHEMAS

from conftest import PURGE_MACRO, SPARK_PURGE, _base_env, _disabled_macro
from dbt_harness import TEST_KEY, DbtProject, customer_key, project_with_fixtures
from privseg.core.settings import PROJECT_DIR
from privseg.datagen import cli as generate_data
from privseg.datagen.loads import LOAD_RULES

JOB = Path(__file__).with_name("incremental_job.py")
END_DATE = "2026-06-30"
FIRST_AS_OF = "2026-06-29"
# The tables whose rows may land in a later day's load, and the column of their day.
LATE_COLUMNS = {table: column for table, (column, late, _) in LOAD_RULES.items() if late}
AS_OF = "2026-06-30"
# Differ by engine, not by data: the file modification time (Spark's has milliseconds).
ENGINE_COLUMNS = {"_source_file_modified"}
# What the run itself records, by design: when the key registry was built, which run first
# fulfilled an erasure request (the log keeps that date; a rebuild must not rewrite it).
RUN_HISTORY_COLUMNS = {"built_at", "fulfilled_date", "is_overdue"}
TYPED = {
    "customers": "typed_shop__customers",
    "products": "typed_shop__products",
    "orders": "typed_shop__orders",
    "order_items": "typed_shop__order_items",
    "web_events": "typed_web__events",
    "campaigns": "typed_email__campaigns",
    "email_events": "typed_email__events",
    "consent_events": "typed_preference_center__consent_events",
    "preferences": "typed_preference_center__preferences",
    "erasure_requests": "typed_preference_center__erasure_requests",
}
# Which files changed in which run: a record of the runs, not of the data.
RUN_RECORDS = {"staging.raw_file_changes"}


@pytest.fixture(scope="module")
def incremental(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("spark_incremental")
    raw = root / "raw"
    assert generate_data.main(
        ["--customers", "250", "--days", "30", "--seed", "5", "--faults", "0.02",
         "--end-date", END_DATE, "--layout", "partitioned", "--hold-back-days", "1",
         "--out", str(raw)]
    ) == 0  # fmt: skip
    files = {PURGE_MACRO: _disabled_macro(PURGE_MACRO, SPARK_PURGE, "{{ return('select 1') }}")}
    _, broken = project_with_fixtures(root / "broken", raw, files)
    out = root / "out"
    out.mkdir()
    env = {
        "RAW_DATA_DIR": str(raw),
        "SPARK_BUILD_DIR": str(root / "spark"),
        "DBT_ENV_SECRET_PSEUDONYM_KEY": TEST_KEY,
    }
    with (root / "output.txt").open("w") as output:
        done = subprocess.run(
            [sys.executable, str(JOB), str(out), str(raw), str(broken), FIRST_AS_OF, AS_OF],
            cwd=PROJECT_DIR,
            env={**_base_env(), **env},
            stdout=output,
            stderr=subprocess.STDOUT,
            check=False,
        )
    text = (root / "output.txt").read_text(errors="replace")
    report_file = out / "report.json"
    report = json.loads(report_file.read_text()) if report_file.exists() else {}
    if done.returncode != 0 or not report.get("incremental_succeeded"):
        lines = [m for m in text.splitlines() if "ERROR" in m or "Error" in m]
        pytest.fail(f"Spark incremental job failed ({report}):\n" + "\n".join(lines[-30:]))
    full = DbtProject(root / "duckdb_full", raw)
    full.root.mkdir()
    rebuilt = full.dbt(
        "build", "--full-refresh", "--select", *LAYERS,
        "--exclude", "resource_type:test", "resource_type:unit_test", as_of=AS_OF,
    )  # fmt: skip
    assert rebuilt.success, rebuilt.output[-3000:]
    chosen = json.loads((out / "chosen.json").read_text())
    return {"raw": raw, "out": out, "report": report, "output": text, "full": full, **chosen}


def spark_table(incremental: dict, relation: str) -> str:
    return f"read_parquet('{incremental['out'] / 'parquet' / relation}/*.parquet')"


def test_the_incremental_run_read_only_the_new_load_with_late_rows(incremental):
    out, raw, load = incremental["output"], incremental["raw"], incremental["load"]
    # Each typed_ table read the new load's files (two with the withdrawal, two with the
    # erasure request) and none read before.
    new_files = incremental["new_files"]
    assert new_files["consent_events"] >= 1 and new_files["erasure_requests"] >= 1
    for table, files in new_files.items():
        assert f"{TYPED[table]}: {files} new or changed raw file(s)" in out, table
    # Rows of days the first run already covered, in any table whose rows may land late (3%
    # of them: on this data the consent events have some, the web events and orders none).
    late = sum(
        duckdb.sql(
            f"select count(*) from read_parquet('{raw}/{table}/{load}/*.parquet') "
            f"where {column} < '{FIRST_AS_OF}'"
        ).fetchall()[0][0]
        for table, column in LATE_COLUMNS.items()
        if (raw / table / load).is_dir()
    )
    assert late > 0, "no late row in the appended load: the scenario proves less"


# Incremental on Spark: the typed_ tables (partition overwrite), the event-dated tables that
# append (window delete and purges through delete_where) and the erasure log; the models keyed
# by subject are rebuilt in full (keyed_full_refresh).
INCREMENTAL_ON_SPARK = {
    *TYPED.values(),
    "int_web_events_pseudonymized",
    "int_email_events_pseudonymized",
    "int_email_sends_pseudonymized",
    "fct_web_events",
    "fct_email_events",
    "fct_orders",
    "fct_order_items",
    "int_erasure_log",
}
REBUILT_ON_SPARK = {
    "int_customers_pseudonymized",
    "int_orders_pseudonymized",
    "int_order_items_pseudonymized",
    "int_consent_events_pseudonymized",
    "int_consent_intervals",
}


def test_the_event_dated_models_ran_incrementally_and_the_keyed_ones_in_full(incremental):
    written = incremental["report"]["written_by"]
    assert {name for name in INCREMENTAL_ON_SPARK if written.get(name) != "insert"} == set()
    assert {name for name in REBUILT_ON_SPARK if written.get(name) != "create"} == set()


def test_the_incremental_spark_run_equals_a_full_refresh_row_for_row(incremental):
    relations = [r for r in incremental["report"]["relations"] if r not in RUN_RECORDS]
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute(f"attach '{incremental['full'].warehouse}' as wh (read_only)")
        built = {
            f"{schema}.{name}"
            for schema, name in con.execute(
                "select schema_name, table_name from duckdb_tables() where database_name = 'wh' "
                "union all select schema_name, view_name from duckdb_views() "
                "where database_name = 'wh' and not internal"
            ).fetchall()
            if schema in SCHEMAS
        }
        assert sorted(built - RUN_RECORDS) == sorted(relations)
        assert len(relations) > 40
        differ = []
        for relation in relations:
            columns = [
                row[0]
                for row in con.execute(f"describe wh.{relation}").fetchall()
                if row[0] not in ENGINE_COLUMNS | RUN_HISTORY_COLUMNS
            ]
            listed = ", ".join(f'"{c}"' for c in columns)
            ours = f"(select {listed} from wh.{relation})"
            theirs = f"(select {listed} from {spark_table(incremental, relation)})"
            for name, a, b in (("DuckDB", ours, theirs), ("Spark", theirs, ours)):
                (rows,) = con.execute(f"select count(*) from ({a} except all {b})").fetchone()
                if rows:
                    differ.append(f"{relation}: {rows} rows only in {name}'s")
    assert not differ, "\n".join(differ)


def test_the_withdrawal_and_the_erasure_took_effect_on_spark(incremental):
    withdrawn, erased = customer_key(incremental["withdrawn"]), customer_key(incremental["erased"])
    with duckdb.connect() as con:
        consented = spark_table(incremental, "consent.int_consented_subjects")
        (still,) = con.execute(
            f"select count(*) from {consented} where consent_purpose = 'analytics' "
            "and customer_key = ?",
            [withdrawn],
        ).fetchone()
        assert still == 0, "the withdrawn subject is still consented to analytics"
        for relation in incremental["report"]["relations"]:
            if relation.split(".")[0] == "staging":
                continue
            table = spark_table(incremental, relation)
            names = [row[0] for row in con.execute(f"describe select * from {table}").fetchall()]
            if "customer_key" in names:
                (rows,) = con.execute(
                    f"select count(*) from {table} where customer_key = ?", [erased]
                ).fetchone()
                assert rows == 0, f"{relation}: {rows} rows of the erased subject"
        customers = spark_table(incremental, "staging.typed_shop__customers")
        (whole, tombstones) = con.execute(
            f"select count(*) filter (where not _erased), count(*) filter (where _erased) "
            f"from {customers} where customer_id = ?",
            [int(incremental["erased"])],
        ).fetchone()
    assert (whole, tombstones) == (0, tombstones) and tombstones > 0


def test_the_erased_subject_is_in_no_file_of_the_spark_warehouse(incremental):
    report = incremental["report"]
    assert report["files_with_kept"], "the scan finds no kept customer's email: it sees nothing"
    assert report["files_with_erased"] == []


def test_without_the_spark_purge_an_erased_subject_stays_in_the_files(incremental):
    # The guard: the same check after an erasure request of the kept customer, delivered in
    # one more file and read incrementally by the project copy whose spark__purge_erased_raw_rows
    # does nothing, finds their raw row (email included) still in the typed_ files.
    report = incremental["report"]
    assert report["broken_succeeded"]
    assert any("typed_shop__customers" in f for f in report["broken_files_with_kept"])
