"""The right of access (scripts/subject_access.py) on the session build: what it reports about
a subject matches what the raw data and the key say the warehouse should hold; an erased
subject gets "nothing held"; without the build's key it refuses; it logs the request, never
its contents; and every table that holds a customer pseudonym is searched.

The expectations are recomputed here from the raw Parquet files and the test key with hmac
(dbt_harness.pseudonym), not with the package's own pseudonymizer or queries."""

from __future__ import annotations

import copy
import csv
import json
import stat
import threading
from pathlib import Path

import duckdb
import pytest

from dbt_harness import AS_OF, customer_key, pseudonym, script_runner
from privseg.access import cli as subject_access
from privseg.access.discovery import subject_tables, tables_holding, uncovered
from privseg.core.keys import KEY_ENV_VAR, KEY_FILE_ENV_VAR
from privseg.core.lock import WarehouseLock
from privseg.core.settings import PROJECT_DIR


def raw(faulty_raw: Path, table: str) -> list[dict]:
    rows = duckdb.sql(f"select * from read_parquet('{faulty_raw / table}.parquet')")
    return [dict(zip(rows.columns, row, strict=True)) for row in rows.fetchall()]


@pytest.fixture
def env(monkeypatch, built, tmp_path):
    monkeypatch.setenv("WAREHOUSE_PATH", str(built.warehouse))
    monkeypatch.setenv("DBT_TARGET_PATH", str(built.target_dir))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    monkeypatch.setenv(KEY_ENV_VAR, built.key)
    # Never fall back to the developer's key file.
    monkeypatch.setenv(KEY_FILE_ENV_VAR, str(tmp_path / "no-such.key"))
    return monkeypatch


@pytest.fixture
def run(env, capsys, caplog):
    """Run main() in-process; return (exit code, everything printed or logged)."""
    return script_runner(subject_access.main, capsys, caplog)


def report_of(out: Path) -> dict:
    return json.loads((out / subject_access.JSON_NAME).read_text())


def held_rows(report: dict, table: str) -> list[dict]:
    return next((t["rows"] for t in report["tables"] if t["table"] == table), [])


@pytest.fixture(scope="module")
def subject(built, faulty_raw) -> str:
    """A customer with valid orders, a withdrawal and segment memberships, chosen from the raw
    files (every order and consent row of theirs well-formed, so all of them are held)."""
    withdrew = {
        e["customer_id"] for e in raw(faulty_raw, "consent_events") if e["action"] == "withdrawn"
    }
    orders: dict[str, list[dict]] = {}
    for order in raw(faulty_raw, "orders"):
        orders.setdefault(order["customer_id"], []).append(order)
    members = {
        row[0] for row in built.query("select customer_key from segments.fct_segment_membership")
    }
    held_orders = {
        row[0]
        for row in built.query("select order_key from pseudonymized.int_orders_pseudonymized")
    }
    for customer_id in sorted(withdrew & set(orders), key=lambda c: (-len(orders[c]), c)):
        if customer_key(customer_id) not in members:
            continue
        if all(pseudonym("order", o["order_id"]) in held_orders for o in orders[customer_id]):
            return customer_id
    pytest.fail("the session data set has no customer with orders, a withdrawal and segments")


def test_reports_what_raw_data_and_key_say_is_held(run, built, faulty_raw, subject, tmp_path):
    out = tmp_path / "request"
    code, output = run("--customer-id", subject, "--out", str(out))
    assert code == 0, output
    report = report_of(out)
    assert report["held"] is True
    key = customer_key(subject)

    # Profile: one pseudonymized customer row, under the pseudonym the key gives the raw id.
    assert [r["customer_key"] for r in held_rows(report, "int_customers_pseudonymized")] == [key]

    # Orders: every raw order of the subject, by the pseudonym of its raw order id, and their
    # lines (found through the order's pseudonym), and no one else's.
    raw_orders = [o for o in raw(faulty_raw, "orders") if o["customer_id"] == subject]
    expected_orders = {pseudonym("order", o["order_id"]) for o in raw_orders}
    assert {
        r["order_key"] for r in held_rows(report, "int_orders_pseudonymized")
    } == expected_orders
    order_ids = {o["order_id"] for o in raw_orders}
    raw_lines = sorted(
        (pseudonym("order", i["order_id"]), int(i["product_id"]), int(i["quantity"]))
        for i in raw(faulty_raw, "order_items")
        if i["order_id"] in order_ids
    )
    lines = held_rows(report, "int_order_items_pseudonymized")
    assert sorted((r["order_key"], r["product_id"], r["quantity"]) for r in lines) == raw_lines

    # Consent history: every raw decision, by the pseudonym of its raw event id.
    raw_events = [e for e in raw(faulty_raw, "consent_events") if e["customer_id"] == subject]
    history = held_rows(report, "int_consent_events_pseudonymized")
    assert {r["consent_event_key"] for r in history} <= {
        pseudonym("consent_event", e["consent_event_id"]) for e in raw_events
    }
    assert (
        sum(r["consent_action"] == "withdrawn" for r in history)
        == sum(e["action"] == "withdrawn" for e in raw_events)
        > 0
    )

    # Current state per purpose: the last raw decision as of the build, a grant only under
    # the purpose's current policy version (seed consent_purposes).
    with (PROJECT_DIR / "seeds/reference/consent_purposes.csv").open() as handle:
        min_version = {
            r["consent_purpose"]: int(r["min_policy_version"]) for r in csv.DictReader(handle)
        }
    last: dict[str, dict] = {}
    for event in sorted(raw_events, key=lambda e: e["recorded_at"]):
        if event["recorded_at"][:10] <= AS_OF:
            last[event["purpose"]] = event
    state = {r["consent_purpose"]: r for r in held_rows(report, "int_consent_state")}
    assert set(state) == set(min_version), "one current state per purpose"
    for purpose, event in last.items():
        expected = (
            event["action"] == "granted" and int(event["policy_version"]) >= min_version[purpose]
        )
        assert state[purpose]["is_granted"] is expected, purpose
        if event["action"] == "withdrawn":
            assert state[purpose]["state_reason"] == "withdrawn"

    # Segments: the memberships the warehouse holds under the independently computed pseudonym.
    expected_segments = {
        row[0]
        for row in built.query(
            "select segment_name from segments.fct_segment_membership where customer_key = ?", [key]
        )
    }
    assert expected_segments
    assert {
        r["segment_name"] for r in held_rows(report, "fct_segment_membership")
    } == expected_segments
    behavior = held_rows(report, "fct_customer_behavior")
    assert len(behavior) == 1 and behavior[0]["rfm_score"] is not None

    # Every row of every table is about this subject.
    for table in report["tables"]:
        for row in table["rows"]:
            if "customer_key" in row:
                assert row["customer_key"] == key, table["table"]

    # Why, on what basis, how long, to whom: the RoPA's facts, from the seeds and exposures.
    orders_table = next(t for t in report["tables"] if t["table"] == "fct_orders")
    assert [p["purpose"] for p in orders_table["purposes"]] == ["analytics"]
    assert orders_table["purposes"][0]["legal_basis"].startswith("consent")
    assert [r["data_category"] for r in orders_table["retention"]] == ["orders"]
    assert {p["table"] for p in report["published_aggregates"]} >= {"rpt_segment_summary"}

    html = (out / subject_access.HTML_NAME).read_text()
    assert "The data we hold about you" in html and "Nothing held" not in html
    assert "<script" not in html.lower() and "http://" not in html and "https://" not in html
    for segment in expected_segments:
        assert segment in html


def test_files_are_owner_only_and_whole(run, subject, tmp_path):
    out = tmp_path / "request"
    code, _ = run("--customer-id", subject, "--out", str(out))
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [subject_access.JSON_NAME, subject_access.HTML_NAME]
    ), "no temporary file left behind"
    for path in out.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    assert stat.S_IMODE(out.stat().st_mode) == 0o700


def test_an_erased_subject_yields_nothing_held(run, built, faulty_raw, tmp_path):
    erased = sorted(
        row[0]
        for row in built.query(
            "select cast(customer_id as varchar) "
            "from staging.stg_preference_center__erasure_requests"
        )
    )
    customers = {c["customer_id"] for c in raw(faulty_raw, "customers")}
    subject = next(c for c in erased if c in customers)
    out = tmp_path / "erased"
    code, output = run("--customer-id", subject, "--out", str(out))
    assert code == 0, output
    report = report_of(out)
    assert report["held"] is False and report["tables"] == []
    assert report["published_aggregates"] == []
    assert "Nothing held" in (out / subject_access.HTML_NAME).read_text()


def test_refuses_without_a_key_and_writes_nothing(run, env, subject, tmp_path):
    env.delenv(KEY_ENV_VAR)
    out = tmp_path / "request"
    code, output = run("--customer-id", subject, "--out", str(out))
    assert code == 2
    errors = [line for line in output.splitlines() if "ERROR" in line]
    assert len(errors) == 1 and "no pseudonymization key" in errors[0]
    assert not out.exists()
    assert not (tmp_path / "logs" / subject_access.LOG_NAME).exists()


def test_refuses_while_a_pipeline_run_holds_the_warehouse_or_waits_for_it(
    run, built, subject, tmp_path
):
    run_holding = WarehouseLock(built.warehouse)  # a second open file: flock refuses it too
    run_holding.acquire("build")
    try:
        code, output = run("--customer-id", subject, "--out", str(tmp_path / "refused"))
        errors = [line for line in output.splitlines() if "ERROR" in line]
        assert code == 2 and len(errors) == 1
        assert "in use by another pipeline run" in errors[0] and "--wait SECONDS" in errors[0]
        assert not (tmp_path / "refused").exists()
        threading.Timer(1.0, run_holding.release).start()
        code, output = run("--customer-id", subject, "--out", str(tmp_path / "r"), "--wait", "60")
        assert code == 0, output
    finally:
        run_holding.release()


def test_refuses_a_key_other_than_the_builds(run, env, subject, tmp_path):
    env.setenv(KEY_ENV_VAR, "another-key-" + "0" * 20)
    code, output = run("--customer-id", subject, "--out", str(tmp_path / "request"))
    assert code == 2 and "key differs from the one that built" in output
    assert not (tmp_path / "request").exists()


def test_refuses_an_id_that_is_no_customer_number_without_echoing_it(run, tmp_path):
    code, output = run("--customer-id", "jane@example.test", "--out", str(tmp_path / "r"))
    assert code == 2 and "whole number" in output
    assert "jane" not in output


def test_logs_the_request_not_its_contents(run, subject, tmp_path):
    out = tmp_path / "request"
    code, output = run("--customer-id", subject, "--out", str(out), "--verbose")
    assert code == 0
    report = report_of(out)
    log_file = tmp_path / "logs" / subject_access.LOG_NAME
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    entries = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert [e["request_id"] for e in entries] == [report["request_id"]]
    assert set(entries[0]) == {
        "request_id", "requested_at", "as_of_date", "key_fingerprint", "tables_searched",
    }  # fmt: skip
    logged = output + log_file.read_text()
    personal = {subject, customer_key(subject), customer_key(subject)[:16]}
    for table in report["tables"]:
        for row in table["rows"]:
            personal |= {v for k, v in row.items() if isinstance(v, str) and k.endswith("_key")}
    leaked = sorted(value for value in personal if value in logged)
    assert not leaked, f"{len(leaked)} personal values in the logs"


def test_every_table_holding_a_customer_pseudonym_is_searched(built, faulty_raw):
    """Scan every column of every table past staging for any customer's pseudonym: each hit
    must be a table and column the report searches (found from the manifest's meta)."""
    manifest = json.loads((built.target_dir / "manifest.json").read_text())
    keys = [customer_key(c["customer_id"]) for c in raw(faulty_raw, "customers")]
    with duckdb.connect(str(built.warehouse), read_only=True) as con:
        found = tables_holding(con, keys)
    assert "fct_segment_membership" in found and "int_consent_state" in found
    assert uncovered(found, subject_tables(manifest)) == []

    # The guard fails when a model's pseudonym column is not classified as one.
    broken = copy.deepcopy(manifest)
    node = next(n for n in broken["nodes"].values() if n["name"] == "int_consent_state")
    column = node["columns"]["customer_key"]
    for meta in (column.get("meta"), (column.get("config") or {}).get("meta")):
        if meta and "privacy" in meta:
            meta["privacy"]["classification"] = "behavioral"
    assert uncovered(found, subject_tables(broken)) == ["int_consent_state.customer_key"]
