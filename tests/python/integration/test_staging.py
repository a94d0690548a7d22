"""Staging: every raw row is either valid (in its stg_ model) or quarantined
with the reason the generator injected, and bad raw input fails clearly."""

from __future__ import annotations

import json
from collections import Counter

import duckdb
import pytest

from dbt_harness import DbtProject, link_raw
from privseg.core.manifest import failed_nodes

VALIDATING_MODEL = {
    "customers": "base_shop__customers",
    "products": "base_shop__products",
    "orders": "base_shop__orders",
    "order_items": "base_shop__order_items",
    "web_events": "base_web__events",
    "campaigns": "base_email__campaigns",
    "email_events": "base_email__events",
    "consent_events": "base_preference_center__consent_events",
    "preferences": "base_preference_center__preferences",
    "erasure_requests": "base_preference_center__erasure_requests",
}


def test_build_passes_every_model_and_test(built: DbtProject):
    run_results = json.loads((built.target_dir / "run_results.json").read_text())
    results = run_results["results"]
    bad = failed_nodes(run_results)
    assert not bad, f"nodes not successful: {bad}"
    kinds = Counter(r["unique_id"].split(".")[0] for r in results)
    assert kinds["model"] >= 2 * len(VALIDATING_MODEL) and kinds["test"] >= 50


def test_quarantine_counts_equal_generator_manifest_kind_by_kind(built, generation_manifest):
    rows = built.query(
        "select source_table, reject_reason, rejected_row_count "
        "from staging.stg_quarantine__summary"
    )
    quarantined = {(table, reason): count for table, reason, count in rows}
    injected = {
        (table, kind): count
        for table, spec in generation_manifest["tables"].items()
        for kind, count in spec["faults"].items()
        if count
    }
    assert injected, "the generator injected no faults: the test would prove nothing"
    assert quarantined == injected


def test_every_valid_row_passes_validation(built, generation_manifest):
    for table, model in VALIDATING_MODEL.items():
        (count,) = built.query(
            f"select count(*) from staging.{model} where _reject_reason is null"
        )[0]
        assert count == generation_manifest["tables"][table]["rows_clean"], table


def test_quarantine_keeps_ids_and_positions_not_values(built):
    columns = [r[0] for r in built.query("describe staging.stg_quarantine__rejected_rows")]
    assert columns == [
        "source_name",
        "source_table",
        "reject_reason",
        "raw_row_id",
        "source_file",
        "source_row_number",
    ]
    summary = [r[0] for r in built.query("describe staging.stg_quarantine__summary")]
    assert "raw_row_id" not in summary


def test_the_gender_note_and_card_fields_never_reach_the_warehouse(built):
    columns = {
        r[0]
        for r in built.query(
            "select column_name from information_schema.columns "
            "where table_schema = 'staging' and table_name like 'stg_%'"
        )
    }
    assert not {"gender", "crm_note", "payment_card_last4", "ip_address"} & columns
    # The referrer is staged for the contextual audiences; it leaves staging only as a class.
    past_staging = {
        r[0]
        for r in built.query(
            "select column_name from information_schema.columns "
            "where table_schema not in ('staging', 'reference')"
        )
    }
    assert not {"referrer", "utm_campaign", "geo_country", "user_agent"} & past_staging


# --- bad raw input: each case runs dbt once and fails in the raw data check ---


@pytest.fixture
def broken(tmp_path, faulty_raw) -> DbtProject:
    return DbtProject(tmp_path, link_raw(faulty_raw, tmp_path / "raw"))


def _replace(project: DbtProject, table: str, sql: str) -> None:
    target = project.raw_dir / f"{table}.parquet"
    original = target.resolve()
    target.unlink()
    duckdb.sql(f"copy ({sql.format(source=original)}) to '{target}' (format parquet)")


def test_missing_empty_or_incomplete_raw_tables_fail_naming_each(broken):
    """One run, three broken tables: the check reports every problem at once."""
    (broken.raw_dir / "orders.parquet").unlink()
    _replace(broken, "order_items", "select * from read_parquet('{source}') limit 0")
    _replace(broken, "web_events", "select * exclude (event_type) from read_parquet('{source}')")
    result = broken.dbt("build")
    assert not result.success
    assert "raw table 'orders' (source shop.orders) not found" in result.output
    assert str(broken.raw_dir / "orders.parquet") in result.output
    assert "RAW_DATA_DIR" in result.output
    assert "raw table 'order_items' at" in result.output and "is empty (0 rows)" in result.output
    assert "raw table 'web_events' at" in result.output
    assert "lacks column(s) event_type" in result.output
    assert "Traceback" not in result.output


def test_raw_folder_of_parquet_parts_is_read_like_a_file(broken, faulty_raw):
    """RAW_DATA_DIR/<table>.parquet may be a folder of part files (Spark style)."""
    target = broken.raw_dir / "orders.parquet"
    target.unlink()
    target.mkdir()
    src = faulty_raw / "orders.parquet"
    for part in (0, 1):
        duckdb.sql(
            f"copy (select * from '{src}' where hash(order_id) % 2 = {part}) "
            f"to '{target}/p{part}.parquet'"
        )
    result = broken.dbt("run", "--select", "+stg_quarantine__rejected_rows")
    assert result.success, result.output
    (valid,) = broken.query(
        "select count(*) from staging.base_shop__orders where _reject_reason is null"
    )[0]
    ((total,),) = duckdb.sql(f"select count(*) from '{src}'").fetchall()
    (rejected,) = broken.query(
        "select count(*) from staging.stg_quarantine__rejected_rows where source_table = 'orders'"
    )[0]
    assert valid + rejected == total


def test_empty_erasure_requests_is_allowed(broken):
    """No erasure request yet is a normal state, not a failed extract."""
    target = broken.raw_dir / "erasure_requests.parquet"
    original = target.resolve()
    target.unlink()
    duckdb.sql(f"copy (select * from '{original}' limit 0) to '{target}' (format parquet)")
    result = broken.dbt("run", "--select", "+stg_preference_center__erasure_requests")
    assert result.success, result.output


def test_malformed_as_of_is_rejected_with_the_expected_format(broken):
    result = broken.dbt("run", "--select", "+stg_shop__orders", as_of="2026-13-01")
    assert not result.success
    assert "var 'as_of' must be an ISO date like 2026-06-30" in result.output
