"""Behavioural marts: incremental facts equal a full refresh, withdrawals and
erasures purge incremental tables on the next run, and the marts hold what
their docs say (one row per subject in scope, reconciled with the facts,
converged clusters)."""

from __future__ import annotations

import shutil
from datetime import date, timedelta

import duckdb
import pytest

from dbt_harness import (
    AS_OF,
    WITHOUT_UNIT_TESTS,
    DbtProject,
    append_raw,
    customer_key,
    link_raw,
    table_differences,
)

BEHAVIOR_MODELS = [
    "fct_orders",
    "fct_order_items",
    "fct_web_events",
    "fct_email_events",
    "fct_customer_affinity",
    "dim_affinity_clusters",
    "fct_customer_behavior_aggregates",
    "fct_customer_behavior",
    "fct_customer_interests",
]
# The earlier as-of of the incremental scenario: far enough back that consent
# changes, new subjects and late windows all happen between the two runs.
EARLIER = (date.fromisoformat(AS_OF) - timedelta(days=21)).isoformat()


def _analytics_scope(project: DbtProject) -> set[str]:
    return {
        r[0]
        for r in project.query(
            "select customer_key from consent.int_consented_subjects "
            "where consent_purpose = 'analytics'"
        )
    }


def _customer_ids_by_key(project: DbtProject) -> dict[str, int]:
    ids = project.query("select customer_id from staging.stg_shop__customers order by 1")
    return {customer_key(customer_id): customer_id for (customer_id,) in ids}


@pytest.fixture(scope="module")
def incremental(tmp_path_factory, faulty_raw):
    """Built at EARLIER; then a buyer withdraws analytics, a second one asks
    for erasure and a third, out of scope until then, grants it; then an
    incremental run at AS_OF, and a full refresh of the behavioural layer on
    a copy of that warehouse. Two
    separate computations of the same data: equal tables also show that the
    k-means clustering converges to the same result on every run."""
    root = tmp_path_factory.mktemp("incremental")
    project = DbtProject(root / "run", link_raw(faulty_raw, root / "raw"))
    project.root.mkdir()
    # The segments, measurement, contextual audiences and release downstream are not part of
    # this scenario: left out.
    first = project.dbt(
        "build",
        "--resource-type",
        "seed",
        "--resource-type",
        "model",
        "--exclude",
        "marts.segments",
        "marts.measurement",
        "marts.contextual",
        "marts.release",
        as_of=EARLIER,
    )
    assert first.success, first.output[-3000:]
    scope = _analytics_scope(project)
    buyers = {
        k
        for (k,) in project.query("select customer_key from pseudonymized.int_orders_pseudonymized")
    }
    ids = _customer_ids_by_key(project)
    withdrawing, erased = sorted(ids[k] for k in buyers & scope)[:2]
    granting = min(ids[k] for k in buyers - scope)
    decided = (date.fromisoformat(AS_OF) - timedelta(days=10)).isoformat()
    append_raw(
        project,
        "consent_events",
        f"select '990000201', '{withdrawing}', 'analytics', 'withdrawn', 'preference_center', "
        f"'3', '{decided} 08:00:00' union all "
        f"select '990000202', '{granting}', 'analytics', 'granted', 'preference_center', "
        f"'3', '{decided} 09:00:00'",
    )
    append_raw(
        project,
        "erasure_requests",
        f"select '990000203', '{erased}', '{decided} 10:00:00', 'received'",
    )
    state = {
        "withdrawing": customer_key(withdrawing),
        "erased": customer_key(erased),
        "granting": customer_key(granting),
        "max_ordered": project.query("select max(ordered_date) from behavior.fct_orders")[0][0],
    }
    second = project.dbt(
        "build",
        *WITHOUT_UNIT_TESTS,
        "marts.segments",
        "marts.measurement",
        "marts.contextual",
        "marts.release",
        as_of=AS_OF,
    )
    assert second.success, second.output[-3000:]

    full = DbtProject(root / "full", project.raw_dir)
    full.root.mkdir()
    shutil.copyfile(project.warehouse, full.warehouse)
    refreshed = full.dbt("run", "--full-refresh", "--select", "marts.behavior", as_of=AS_OF)
    assert refreshed.success, refreshed.output[-3000:]
    return project, full, state


@pytest.mark.parametrize("table", BEHAVIOR_MODELS)
def test_an_incremental_run_equals_a_full_refresh(incremental, table):
    project, full, _ = incremental
    only_incremental, only_full, rows = table_differences(project, full, f"behavior.{table}")
    assert rows > 0
    assert (only_incremental, only_full) == (0, 0)


def test_the_incremental_run_purged_the_withdrawal_and_backfilled_the_new_grant(incremental):
    """Guards the equality test against passing vacuously: between the runs a
    subject left scope, one entered it with older orders, and new days came."""
    project, _, earlier = incremental
    withdrawn = project.query(
        "select count(*) from behavior.fct_orders where customer_key = ?", [earlier["withdrawing"]]
    )[0][0]
    backfilled = project.query(
        "select count(*) from behavior.fct_orders where customer_key = ? and ordered_date <= ?",
        [earlier["granting"], earlier["max_ordered"]],
    )[0][0]
    newest = project.query("select max(ordered_date) from behavior.fct_orders")[0][0]
    assert withdrawn == 0
    assert backfilled > 0
    assert newest > earlier["max_ordered"]


def test_behavior_has_one_row_per_subject_in_scope_and_reconciles_with_the_facts(built):
    (subjects, in_scope, purchases, profiled_purchases, buyers, clustered) = built.query(
        "select "
        "(select count(*) from behavior.fct_customer_behavior), "
        "(select count(*) from consent.int_consented_subjects"
        " where consent_purpose = 'analytics'), "
        "(select count(*) from behavior.fct_orders"
        " where order_status in ('completed', 'shipped')), "
        "(select sum(lifetime_orders) from behavior.fct_customer_behavior), "
        "(select count(*) from behavior.fct_customer_behavior where value_in_window_eur > 0), "
        "(select sum(member_count) from behavior.dim_affinity_clusters)"
    )[0]
    assert subjects == in_scope > 0
    assert profiled_purchases == purchases > 0
    assert clustered == buyers > 0
    (interests, personalization) = built.query(
        "select (select count(*) from behavior.fct_customer_interests), "
        "(select count(*) from consent.int_consented_subjects "
        " where consent_purpose = 'personalization')"
    )[0]
    assert interests == personalization > 0


def test_affinity_clusters_converged(built):
    """After the last Lloyd iteration (nearly) every buyer is nearest to the
    centroid of their own cluster; the dim's centroids are rounded to four
    decimals, so an exact tie may flip, hence the 99% floor."""
    categories = [
        "apparel",
        "beauty",
        "books",
        "electronics",
        "garden",
        "homeware",
        "sports",
        "toys",
        "other",
    ]
    distance = " + ".join(
        f"power(buyers.{c}_spend_share - centroids.{c}_spend_share, 2)" for c in categories
    )
    (share_at_own,) = built.query(
        "select avg(case when nearest = affinity_cluster_id then 1 else 0 end) from ("
        "  select buyers.customer_key, buyers.affinity_cluster_id,"
        f"   arg_min(centroids.affinity_cluster_id, {distance}) as nearest"
        "  from behavior.fct_customer_affinity as buyers"
        "  cross join behavior.dim_affinity_clusters as centroids"
        "  group by buyers.customer_key, buyers.affinity_cluster_id)"
    )[0]
    (clusters,) = built.query("select count(*) from behavior.dim_affinity_clusters")[0]
    assert clusters == 6
    assert share_at_own >= 0.99


def _rows_of(project: DbtProject, table: str, keys: list[str]) -> int:
    placeholders = ", ".join("?" for _ in keys)
    return project.query(
        f"select count(*) from behavior.{table} where customer_key in ({placeholders})", keys
    )[0][0]


def test_withdrawal_and_erasure_leave_no_row_in_any_behavioural_mart(incremental):
    project, _, earlier = incremental
    keys = [earlier["withdrawing"], earlier["erased"]]
    before = project.query(
        "select count(*) from pseudonymized.int_orders_pseudonymized where customer_key = ?",
        [earlier["withdrawing"]],
    )[0][0]
    assert before > 0, "the withdrawing buyer's orders are still pseudonymized, just not in scope"
    for table in BEHAVIOR_MODELS:
        if table != "dim_affinity_clusters":
            assert _rows_of(project, table, keys) == 0, f"{table} still holds a purged subject"


def test_consent_check_fails_when_an_incremental_fact_keeps_a_withdrawn_subject(
    incremental, tmp_path
):
    """What a missing purge would leave behind: the withdrawn buyer's orders
    put back into a copy of fct_orders. Its consent_respected test fails and
    reports counts only."""
    project, _, earlier = incremental
    broken = DbtProject(tmp_path, project.raw_dir)
    shutil.copyfile(project.warehouse, broken.warehouse)
    with duckdb.connect(str(broken.warehouse)) as con:
        con.execute(
            "insert into behavior.fct_orders select order_key, customer_key, ordered_date, "
            "ordered_daypart, ordered_day_of_week, order_status, order_channel, currency_code, "
            "total_amount, total_amount from pseudonymized.int_orders_pseudonymized "
            "where customer_key = ?",
            [earlier["withdrawing"]],
        )
    result = broken.dbt("test", "--select", "fct_orders,test_name:consent_respected")
    assert not result.success
    assert "FAIL 1 consent_respected_fct_orders_analytics" in result.output
    assert earlier["withdrawing"] not in result.output
