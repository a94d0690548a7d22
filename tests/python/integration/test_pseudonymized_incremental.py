"""Incremental pseudonymized tables (orders, order lines, email and consent
events) equal a --full-refresh of the same data, row for row: after a day
with late rows inside the window, a late line of a loaded order, duplicate
ids whose winner replaces a loaded row, an erasure and as_of moved forward
three weeks; and again after as_of moved back (a rebuild). The erasure purge and the
order lines' purge are shown to matter: a project copy without them keeps
the erased subject's rows."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from dbt_harness import (
    AS_OF,
    DbtProject,
    append_raw,
    customer_key,
    link_raw,
    project_with_fixtures,
    pseudonym,
    table_differences,
)

PSEUDONYMIZED = [
    "int_orders_pseudonymized",
    "int_order_items_pseudonymized",
    "int_email_events_pseudonymized",
    "int_consent_events_pseudonymized",
]
EARLIER = (date.fromisoformat(AS_OF) - timedelta(days=21)).isoformat()
BACKWARDS = (date.fromisoformat(AS_OF) - timedelta(days=28)).isoformat()
# Old orders given a later duplicate (same id, new time): the latest row wins (the
# duplicate_id rule), and the winner must replace the loaded row, not add one.
DUPLICATED_ORDERS = 8

BUILD = ("build", "--resource-type", "seed", "--resource-type", "model", "--select")
SELECTED = tuple(f"+{model}" for model in PSEUDONYMIZED)

# The project without the erasure purge of these tables: for showing that it is needed.
PURGE_WITHOUT_ERASURE = """{% macro purge_expired_and_erased(subject_column='customer_key') -%}
    {%- set declared = retention_declaration() -%}
    delete from {{ this }}
    where {{ declared.date_column }} < {{ retention_start(declared.data_category) }}
{%- endmacro %}
"""
LINES_WITHOUT_PURGE = """{% macro order_lines_follow_parents() -%}
    select 1
{%- endmacro %}
"""


def _full_refresh_of(project: DbtProject, root: Path, as_of: str) -> DbtProject:
    full = DbtProject(root, project.raw_dir)
    full.root.mkdir()
    shutil.copyfile(project.warehouse, full.warehouse)
    result = full.dbt("run", "--full-refresh", "--select", *PSEUDONYMIZED, as_of=as_of)
    assert result.success, result.output[-3000:]
    return full


def _the_new_day(project: DbtProject) -> dict:
    """Appends the new day's rows to the raw files; returns what the tests check."""
    late_day = (date.fromisoformat(EARLIER) - timedelta(days=1)).isoformat()
    later = (date.fromisoformat(EARLIER) + timedelta(days=5)).isoformat()
    decided = (date.fromisoformat(AS_OF) - timedelta(days=10)).isoformat()
    # A subject with rows older than any window in all three tables: only a purge removes them.
    old = f"{(date.fromisoformat(EARLIER) - timedelta(days=10)).isoformat()} 00:00:00"
    (erased,) = project.query(
        "select min(orders.customer_id) from staging.stg_shop__orders as orders "
        "where orders.ordered_at < ? and orders.customer_id in "
        "(select customer_id from staging.stg_email__events where occurred_at < ?) "
        "and orders.customer_id in (select customer_id "
        "from staging.stg_preference_center__consent_events where recorded_at < ?)",
        [old, old, old],
    )[0]
    duplicated = [
        order_id
        for (order_id,) in project.query(
            "select order_id from staging.stg_shop__orders "
            "where ordered_at < ? and customer_id <> ? order by order_id limit ?",
            [f"{EARLIER} 00:00:00", erased, DUPLICATED_ORDERS],
        )
    ]
    (late_line_order,) = project.query(
        "select min(order_id) from staging.stg_shop__orders "
        "where cast(ordered_at as date) = ? and customer_id <> ?",
        [late_day, erased],
    )[0]
    (buyer,) = project.query(
        "select min(customer_id) from staging.stg_shop__orders where customer_id <> ?", [erased]
    )[0]
    (product,) = project.query("select min(product_id) from staging.stg_shop__products")[0]
    orders_file = (project.raw_dir / "orders.parquet").resolve()
    ids = ", ".join(f"'{order_id}'" for order_id in duplicated)
    append_raw(
        project,
        "orders",
        # A late order inside the window, and the later duplicates of old orders.
        f"select '990000301', '{buyer}', '{late_day} 09:00:00', 'completed', 'web', 'EUR', "
        f"'12.50', '10115', '1234' union all "
        f"select * replace ('{later} 12:00:00' as ordered_at) "
        f"from read_parquet('{orders_file}') where order_id in ({ids})",
    )
    append_raw(
        project,
        "order_items",
        f"select '990000302', '990000301', '{product}', '1', '12.50' union all "
        f"select '990000303', '{late_line_order}', '{product}', '2', '3.00'",
    )
    append_raw(
        project,
        "erasure_requests",
        f"select '990000304', '{erased}', '{decided} 10:00:00', 'received'",
    )
    return {"erased": customer_key(erased), "duplicated": duplicated}


def _keys_of_the_erased(project: DbtProject, erased_key: str) -> dict[str, int]:
    """Rows of the erased subject in each table (order lines through the orders loaded before)."""
    return {
        table: project.query(
            f"select count(*) from pseudonymized.{table} where customer_key = ?", [erased_key]
        )[0][0]
        for table in PSEUDONYMIZED
        if table != "int_order_items_pseudonymized"
    }


def _scenario(root: Path, raw: Path, project_dir: Path | None = None) -> tuple[DbtProject, dict]:
    project = DbtProject(root, link_raw(raw, root.parent / f"{root.name}_raw"))
    project.root.mkdir()
    first = project.dbt(*BUILD, *SELECTED, as_of=EARLIER, project_dir=project_dir)
    assert first.success, first.output[-3000:]
    state = _the_new_day(project)
    state["erased_order_keys"] = [
        key
        for (key,) in project.query(
            "select order_key from pseudonymized.int_orders_pseudonymized where customer_key = ?",
            [state["erased"]],
        )
    ]
    state["before"] = _keys_of_the_erased(project, state["erased"])
    second = project.dbt(*BUILD, *SELECTED, as_of=AS_OF, project_dir=project_dir)
    assert second.success, second.output[-3000:]
    return project, state


def _lines_of(project: DbtProject, order_keys: list[str]) -> int:
    return project.query(
        "select count(*) from pseudonymized.int_order_items_pseudonymized "
        "where order_key in (select unnest(?))",
        [order_keys],
    )[0][0]


@pytest.fixture(scope="module")
def daily(tmp_path_factory, faulty_raw):
    root = tmp_path_factory.mktemp("pseudonymized_incremental")
    project, state = _scenario(root / "run", faulty_raw)
    full = _full_refresh_of(project, root / "full", AS_OF)
    return project, full, state


@pytest.mark.parametrize("table", PSEUDONYMIZED)
def test_an_incremental_run_equals_a_full_refresh(daily, table):
    project, full, _ = daily
    only_incremental, only_full, rows = table_differences(project, full, f"pseudonymized.{table}")
    assert rows > 0
    assert (only_incremental, only_full) == (0, 0)


def test_the_day_took_effect_late_rows_replacements_and_erasure(daily):
    """Guards the equality test against passing vacuously."""
    project, _, state = daily
    assert all(count > 0 for count in state["before"].values()), state["before"]
    assert _lines_of(project, state["erased_order_keys"]) == 0
    assert _keys_of_the_erased(project, state["erased"]) == dict.fromkeys(state["before"], 0)
    later = date.fromisoformat(EARLIER) + timedelta(days=5)
    winners = project.query(
        "select count(*) from staging.stg_shop__orders "
        "where order_id in (select unnest(?)) and cast(ordered_at as date) = ?",
        [state["duplicated"], later],
    )[0][0]
    assert winners > 0, "no later duplicate won: the scenario proves less"
    keys = [pseudonym("order", order_id) for order_id in state["duplicated"]]
    rows, replaced = project.query(
        "select count(*), count(*) filter (where ordered_date = ?) "
        "from pseudonymized.int_orders_pseudonymized where order_key in (select unnest(?))",
        [later, keys],
    )[0]
    assert (rows, replaced) == (DUPLICATED_ORDERS, winners)
    (late,) = project.query(
        "select count(*) from staging.stg_shop__order_items "
        "where order_item_id in (990000302, 990000303)"
    )[0]
    assert late == 2


def test_as_of_moved_back_equals_a_full_refresh(daily, tmp_path):
    project, _, _ = daily
    back = DbtProject(tmp_path / "back", project.raw_dir)
    back.root.mkdir()
    shutil.copyfile(project.warehouse, back.warehouse)
    result = back.dbt(*BUILD, *SELECTED, as_of=BACKWARDS)
    assert result.success, result.output[-3000:]
    full = _full_refresh_of(back, tmp_path / "full", BACKWARDS)
    for table in PSEUDONYMIZED:
        only_incremental, only_full, rows = table_differences(back, full, f"pseudonymized.{table}")
        assert rows > 0
        assert (table, only_incremental, only_full) == (table, 0, 0)


def test_without_the_purges_the_erased_subject_stays(daily, tmp_path, faulty_raw):
    """A project copy whose erasure purge and order-line purge are gone keeps
    the erased subject's rows after the same day: the purges are what removes
    them (staging filtering the subject does not reach an incremental table)."""
    _, _, state = daily
    broken, project_copy = project_with_fixtures(
        tmp_path,
        faulty_raw,
        {
            "macros/incremental/purge_expired_and_erased.sql": PURGE_WITHOUT_ERASURE,
            "macros/incremental/order_lines_follow_parents.sql": LINES_WITHOUT_PURGE,
        },
    )
    shutil.rmtree(broken.root)
    broken, broken_state = _scenario(tmp_path / "broken", faulty_raw, project_dir=project_copy)
    kept = _keys_of_the_erased(broken, broken_state["erased"])
    assert all(count > 0 for count in kept.values()), kept
    assert _lines_of(broken, broken_state["erased_order_keys"]) > 0
