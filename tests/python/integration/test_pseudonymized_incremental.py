"""Incremental pseudonymized tables (orders, order lines, email events and
sends, web events, consent events) and consent intervals equal a
--full-refresh of the same data, row for row: after a day with late rows
inside the window, a late line of a loaded order, duplicate ids whose winner
replaces a loaded row, a withdrawal, a new grant, an erasure and as_of moved
forward three weeks; after as_of moved back (a rebuild); and after a changed
raw file (a rebuild). The erasure purge, the order lines' purge and the
consent intervals' purge are shown to matter: a project copy without one of
them keeps the erased subject's rows."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
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

# Each incremental table and its schema.
INCREMENTAL = {
    "int_customers_pseudonymized": "pseudonymized",
    "int_orders_pseudonymized": "pseudonymized",
    "int_order_items_pseudonymized": "pseudonymized",
    "int_email_events_pseudonymized": "pseudonymized",
    "int_email_sends_pseudonymized": "pseudonymized",
    "int_web_events_pseudonymized": "pseudonymized",
    "int_consent_events_pseudonymized": "pseudonymized",
    "int_consent_intervals": "consent",
}
EARLIER = (date.fromisoformat(AS_OF) - timedelta(days=21)).isoformat()
BACKWARDS = (date.fromisoformat(AS_OF) - timedelta(days=28)).isoformat()
# Old orders given a later duplicate (same id, new time): the latest row wins (the
# duplicate_id rule), and the winner must replace the loaded row, not add one.
DUPLICATED_ORDERS = 8

BUILD = ("build", "--resource-type", "seed", "--resource-type", "model", "--select")
SELECTED = tuple(f"+{model}" for model in INCREMENTAL)

# The project without the erasure purge of these tables: for showing that it is needed.
PURGE_WITHOUT_ERASURE = """
{%- macro purge_expired_and_erased(subject_column='customer_key', expire=true) -%}
    {%- if expire -%}
    {%- set declared = retention_declaration() -%}
    delete from {{ this }}
    where {{ declared.date_column }} < {{ retention_start(declared.data_category) }}
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}
"""
LINES_WITHOUT_PURGE = """{% macro order_lines_follow_parents() -%}
    select 1
{%- endmacro %}
"""
INTERVALS_WITHOUT_PURGE = """
{%- macro rows_follow_subjects(parent, subject_column='customer_key') -%}
    select 1
{%- endmacro %}
"""


def _full_refresh_of(project: DbtProject, root: Path, as_of: str) -> DbtProject:
    full = DbtProject(root, project.raw_dir)
    full.root.mkdir()
    shutil.copyfile(project.warehouse, full.warehouse)
    result = full.dbt("run", "--full-refresh", "--select", *INCREMENTAL, as_of=as_of)
    assert result.success, result.output[-3000:]
    return full


def _customers_in_loads(raw: Path) -> None:
    """The customers as one load folder (the partitioned layout): the new day's customer rows
    arrive in a new file, as they do in production, and the file read before stays as it is."""
    single = raw / "customers.parquet"
    first_load = raw / "customers" / "load_date=2026-01-01"
    first_load.mkdir(parents=True)
    shutil.copyfile(single.resolve(), first_load / "part-0.parquet")
    single.unlink()


def _the_new_day(project: DbtProject) -> dict:
    """Appends the new day's rows to the raw files; returns what the tests check."""
    late_day = (date.fromisoformat(EARLIER) - timedelta(days=1)).isoformat()
    later = (date.fromisoformat(EARLIER) + timedelta(days=5)).isoformat()
    decided = (date.fromisoformat(AS_OF) - timedelta(days=10)).isoformat()
    # A subject with rows older than any window in every table: only a purge removes them.
    old = f"{(date.fromisoformat(EARLIER) - timedelta(days=10)).isoformat()} 00:00:00"
    (erased,) = project.query(
        "select min(orders.customer_id) from staging.stg_shop__orders as orders "
        "where orders.ordered_at < ? and orders.customer_id in "
        "(select customer_id from staging.stg_email__events "
        "where occurred_at < ? and event_type = 'send') "
        "and orders.customer_id in (select customer_id from staging.stg_web__events "
        "where occurred_at < ?) "
        "and orders.customer_id in (select customer_id "
        "from staging.stg_preference_center__consent_events where recorded_at < ?)",
        [old, old, old, old],
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
    web_file = (project.raw_dir / "web_events.parquet").resolve()
    email_file = (project.raw_dir / "email_events.parquet").resolve()
    consent_file = (project.raw_dir / "consent_events.parquet").resolve()
    # A late page view and a late send inside the window, copied from valid rows.
    append_raw(
        project,
        "web_events",
        f"select * replace ('990000305' as event_id, '{late_day} 10:00:00' as occurred_at) "
        f"from read_parquet('{web_file}') where event_id = '{_valid_id(project, 'web', erased)}'",
    )
    append_raw(
        project,
        "email_events",
        f"select * replace ('990000306' as email_event_id, '{late_day} 08:00:00' as occurred_at) "
        f"from read_parquet('{email_file}') "
        f"where email_event_id = '{_valid_id(project, 'send', erased)}'",
    )
    # A withdrawal of a grant, and a new grant by another subject, after the first as_of.
    withdrawn = _valid_id(project, "grant", erased)
    (withdrawer,) = project.query(
        "select customer_id from staging.stg_preference_center__consent_events "
        "where consent_event_id = ?",
        [withdrawn],
    )[0]
    granted = _valid_id(project, "consent", erased, other_than=withdrawer)
    append_raw(
        project,
        "consent_events",
        f"select * replace ('990000307' as consent_event_id, 'withdrawn' as action, "
        f"'{later} 18:00:00' as recorded_at) from read_parquet('{consent_file}') "
        f"where consent_event_id = '{withdrawn}' "
        f"union all select * replace ('990000308' as consent_event_id, 'granted' as action, "
        f"'{later} 19:00:00' as recorded_at) from read_parquet('{consent_file}') "
        f"where consent_event_id = '{granted}'",
    )
    # A changed customer row (same id, later signup_at: it wins the duplicate rule) and a new
    # customer, in a new load file.
    (changed,) = project.query(
        "select min(customer_id) from staging.stg_shop__customers "
        "where signed_up_at < ? and postcode <> '10115' and customer_id not in (?, ?)",
        [f"{EARLIER} 00:00:00", erased, buyer],
    )[0]
    first_load = project.raw_dir / "customers" / "load_date=2026-01-01" / "part-0.parquet"
    new_load = project.raw_dir / "customers" / f"load_date={AS_OF}"
    new_load.mkdir()
    duckdb.sql(
        f"copy (select * replace ('10115' as postcode, 'DE' as country, "
        f"'{later} 07:00:00' as signup_at) from read_parquet('{first_load}') "
        f"where customer_id = '{changed}' union all "
        f"select * replace ('990000309' as customer_id, '{late_day} 07:00:00' as signup_at) "
        f"from read_parquet('{first_load}') where customer_id = '{changed}') "
        f"to '{new_load / 'part-0.parquet'}' (format parquet)"
    )
    append_raw(
        project,
        "erasure_requests",
        f"select '990000304', '{erased}', '{decided} 10:00:00', 'received'",
    )
    return {
        "erased": customer_key(erased),
        "duplicated": duplicated,
        "withdrawn": customer_key(withdrawer),
        "changed": customer_key(changed),
        "new_customer": customer_key(990000309),
    }


def _valid_id(project: DbtProject, kind: str, erased: int, other_than: int = -1) -> int:
    """The smallest id of a valid row (web event, send, grant, consent event) of a
    subject other than the erased one (and other_than)."""
    consent = ("base_preference_center__consent_events", "consent_event_id")
    table, id_column, condition = {
        "web": ("base_web__events", "event_id", "true"),
        "send": ("base_email__events", "email_event_id", "event_type = 'send'"),
        "grant": (*consent, "action = 'granted'"),
        "consent": (*consent, "true"),
    }[kind]
    (found,) = project.query(
        f"select min({id_column}) from staging.{table} where _reject_reason is null "
        f"and customer_id not in (?, ?) and {condition}",
        [erased, other_than],
    )[0]
    assert found is not None, f"no valid {kind} row to copy"
    return found


def _keys_of_the_erased(project: DbtProject, erased_key: str) -> dict[str, int]:
    """Rows of the erased subject in each table (order lines through the orders loaded before)."""
    return {
        table: project.query(
            f"select count(*) from {schema}.{table} where customer_key = ?", [erased_key]
        )[0][0]
        for table, schema in INCREMENTAL.items()
        if table != "int_order_items_pseudonymized"
    }


def _scenario(root: Path, raw: Path, project_dir: Path | None = None) -> tuple[DbtProject, dict]:
    project = DbtProject(root, link_raw(raw, root.parent / f"{root.name}_raw"))
    project.root.mkdir()
    _customers_in_loads(project.raw_dir)
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


def _assert_equal_tables(incremental: DbtProject, full: DbtProject) -> None:
    for table, schema in INCREMENTAL.items():
        relation = f"{schema}.{table}"
        only_incremental, only_full, rows = table_differences(incremental, full, relation)
        assert rows > 0, table
        assert (table, only_incremental, only_full) == (table, 0, 0)


@pytest.mark.parametrize("table", INCREMENTAL)
def test_an_incremental_run_equals_a_full_refresh(daily, table):
    project, full, _ = daily
    relation = f"{INCREMENTAL[table]}.{table}"
    only_incremental, only_full, rows = table_differences(project, full, relation)
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
    late_events = project.query(
        "select (select count(*) from staging.stg_web__events where web_event_id = 990000305), "
        "(select count(*) from staging.stg_email__events where email_event_id = 990000306)"
    )
    assert late_events == [(1, 1)]
    consent = project.query(
        "select consent_event_id, consent_action "
        "from staging.stg_preference_center__consent_events "
        "where consent_event_id in (990000307, 990000308) order by 1"
    )
    assert consent == [(990000307, "withdrawn"), (990000308, "granted")]
    (withdrawals,) = project.query(
        "select count(*) from consent.int_consent_intervals where customer_key = ? "
        "and consent_action = 'withdrawn' and valid_from = ?",
        [state["withdrawn"], f"{later.isoformat()} 18:00:00"],
    )[0]
    assert withdrawals == 1
    customers = project.query(
        "select customer_key, signed_up_date, market_region "
        "from pseudonymized.int_customers_pseudonymized where customer_key in (?, ?) order by 2",
        [state["changed"], state["new_customer"]],
    )
    late_day = date.fromisoformat(EARLIER) - timedelta(days=1)
    assert customers == [
        (state["new_customer"], late_day, customers[0][2]),
        (state["changed"], later, "dach"),
    ]


def test_as_of_moved_back_equals_a_full_refresh(daily, tmp_path):
    project, _, _ = daily
    back = DbtProject(tmp_path / "back", project.raw_dir)
    back.root.mkdir()
    shutil.copyfile(project.warehouse, back.warehouse)
    result = back.dbt(*BUILD, *SELECTED, as_of=BACKWARDS)
    assert result.success, result.output[-3000:]
    full = _full_refresh_of(back, tmp_path / "full", BACKWARDS)
    _assert_equal_tables(back, full)


def test_a_changed_raw_file_equals_a_full_refresh(daily, tmp_path):
    """An old web event and an old customer rewritten in place (the rows read
    before are gone from their files): the run rebuilds, and equals a full refresh."""
    project, _, _ = daily
    changed = DbtProject(tmp_path / "changed", link_raw(project.raw_dir, tmp_path / "raw"))
    changed.root.mkdir()
    shutil.copyfile(project.warehouse, changed.warehouse)
    web_file = (changed.raw_dir / "web_events.parquet").resolve()
    (event_id,) = changed.query(
        "select min(web_event_id) from staging.stg_web__events where page_category <> 'home'"
    )[0]
    rewritten = changed.root / "web_events.rewritten.parquet"
    duckdb.sql(
        f"copy (select * replace (case when event_id = '{event_id}' then 'home' "
        f"else page_category end as page_category) from read_parquet('{web_file}')) "
        f"to '{rewritten}' (format parquet)"
    )
    (changed.raw_dir / "web_events.parquet").unlink()
    rewritten.rename(changed.raw_dir / "web_events.parquet")
    result = changed.dbt(*BUILD, *SELECTED, as_of=AS_OF)
    assert result.success, result.output[-3000:]
    assert "rebuilding every row" in result.output
    full = _full_refresh_of(changed, tmp_path / "full", AS_OF)
    _assert_equal_tables(changed, full)


def test_without_the_purges_the_erased_subject_stays(tmp_path, faulty_raw):
    """A project copy whose erasure purge and order-line purge are gone keeps
    the erased subject's rows after the same day: the purges are what removes
    them (staging filtering the subject does not reach an incremental table)."""
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


def test_without_the_intervals_purge_the_erased_subject_stays(tmp_path, faulty_raw):
    """A project copy whose consent intervals keep subjects with no consent event
    left (rows_follow_subjects gone) keeps the erased subject's intervals, while
    the consent events, purged, hold none: delete+insert alone never removes them."""
    broken, project_copy = project_with_fixtures(
        tmp_path,
        faulty_raw,
        {"macros/incremental/rows_follow_subjects.sql": INTERVALS_WITHOUT_PURGE},
    )
    shutil.rmtree(broken.root)
    broken, broken_state = _scenario(tmp_path / "broken", faulty_raw, project_dir=project_copy)
    kept = _keys_of_the_erased(broken, broken_state["erased"])
    assert kept["int_consent_events_pseudonymized"] == 0
    assert kept["int_consent_intervals"] > 0
