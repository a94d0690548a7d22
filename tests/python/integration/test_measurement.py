"""Measurement marts (models/marts/measurement) on the session build: published tables
pass the minimum cell size, no withheld cell can be recovered by subtraction, campaign
measures agree with the behavioural facts, and the BI example query runs on published
tables alone. Then one small run on a copy of the session warehouse with differential
privacy switched on: noisy counts differ from exact ones, the ledger records the spend,
and a build over budget fails naming the models. Failures show counts, never values."""

from __future__ import annotations

import re
import shutil

import pytest

from dbt_harness import DbtProject, project_with_fixtures
from privseg.core.settings import PROJECT_DIR

K = 10
PUBLISHED = {
    "rpt_campaign_performance": "recipient_count",
    "rpt_cohort_retention": "active_subjects",
    "rpt_lifetime_value": "member_count",
}
MODELS_YML = "models/marts/measurement/_measurement__models.yml"


@pytest.mark.parametrize(("table", "count_column"), PUBLISHED.items())
def test_every_published_measurement_cell_counts_nobody_or_at_least_k(built, table, count_column):
    # A cell of nobody is published as 0: it says nothing about a person.
    ((below, null_counts),) = built.query(
        f"select count(*) filter (where {count_column} between 1 and {K - 1}), "
        f"count(*) filter (where {count_column} is null) from measurement.{table}"
    )
    assert (below, null_counts) == (0, 0)


def test_the_risk_report_covers_every_published_measurement_table(built):
    rows = built.query(
        "select table_name, records_in_classes_below_k from segments.rpt_reidentification_risk"
    )
    report = dict(rows)
    assert set(PUBLISHED) <= set(report)
    assert all(report[t] == 0 for t in PUBLISHED)


def test_cohort_tables_release_something_on_the_session_data(built):
    ((retention,),) = built.query("select count(*) from measurement.rpt_cohort_retention")
    ((cohorts,),) = built.query(
        "select count(*) from measurement.rpt_lifetime_value where cell_level = 'cohort_total'"
    )
    assert retention > 0 and cohorts > 0


# What the published totals and cells leave withheld (in one table and across tables) is
# tested on the published tables in test_release.py.


def test_campaign_totals_count_every_consenting_recipient_once(built):
    """Segment cells partition a campaign's recipients: the totals add up to the distinct
    recipients in fct_email_events, campaign by campaign."""
    ((mismatches, campaigns),) = built.query(
        """
        with expected as (
            select campaign_id, count(distinct customer_key) as recipients
            from behavior.fct_email_events
            where event_type = 'send' and occurred_date <= date '2026-06-30'
            group by campaign_id
        ),
        measured as (
            select campaign_id, recipient_count
            from measurement.int_campaign_cells_suppressed
            where cell_level = 'campaign_total' and recipient_count > 0
        )
        select
            count(*) filter (where expected.recipients is distinct from measured.recipient_count),
            count(*)
        from measured
        full join expected using (campaign_id)
        """
    )
    assert campaigns > 0
    assert mismatches == 0


def test_rates_are_consistent_with_the_published_counts(built):
    ((bad,),) = built.query(
        """
        select count(*) from measurement.rpt_campaign_performance
        where abs(open_rate - round(open_count / recipient_count, 4)) > 0.0001
           or abs(conversion_rate - round(conversion_count / recipient_count, 4)) > 0.0001
           or abs(revenue_per_recipient_eur - round(revenue_eur / recipient_count, 2)) > 0.01
           or is_differentially_private
        """
    )
    assert bad == 0


def test_the_bi_example_query_runs_on_published_tables_only(built):
    text = (PROJECT_DIR / "analyses" / "campaign_best_segment.sql").read_text()
    refs = set(re.findall(r"ref\('([a-z_]+)'\)", text))
    assert refs == {"rpt_campaign_performance"}
    # The campaign with the most released segment cells (on small data maybe none: then
    # the query must still run and return no withheld cell).
    campaigns = built.query(
        "select campaign_id from measurement.rpt_campaign_performance "
        "group by campaign_id order by count(*) desc, campaign_id limit 1"
    )
    assert campaigns
    sql = re.sub(r"\{#.*?#\}", "", text, flags=re.S)
    sql = re.sub(r"\{%-?.*?-?%\}", "", sql, flags=re.S)
    sql = sql.replace(
        "{{ ref('rpt_campaign_performance') }}", "measurement.rpt_campaign_performance"
    )
    sql = sql.replace("{{ campaign_id }}", str(campaigns[0][0]))
    rows = built.query(sql)
    ((released_cells,),) = built.query(
        "select count(*) from measurement.rpt_campaign_performance "
        f"where cell_level = 'cell' and campaign_id = {campaigns[0][0]}"
    )
    assert len(rows) == released_cells
    assert [r[-1] for r in rows] == list(range(1, len(rows) + 1))  # best segment first


@pytest.fixture(scope="module")
def with_dp(tmp_path_factory, built) -> tuple[DbtProject, str, str]:
    """Campaign performance with differential privacy on, run on a copy of the session
    warehouse; then the same with a budget below its epsilon."""
    tmp_path = tmp_path_factory.mktemp("measurement_dp")
    models_yml = (PROJECT_DIR / MODELS_YML).read_text()
    assert models_yml.count("enabled: false") == 1
    project, project_copy = project_with_fixtures(
        tmp_path, built.raw_dir, {MODELS_YML: models_yml.replace("enabled: false", "enabled: true")}
    )
    shutil.copy(built.warehouse, project.warehouse)
    # The release decides again over the noisy rows (its decisions of the session build are
    # about the exact ones).
    selection = [
        "int_campaign_cells_suppressed",
        "int_release_rows",
        "int_release_decisions",
        "rpt_campaign_performance",
        "fct_dp_release_ledger",
    ]
    released = project.dbt("run", "--select", *selection, project_dir=project_copy)
    assert released.success, released.output[-3000:]
    # The harness passes its own --vars (as_of): lower the budget in the copy's project file.
    project_file = project_copy / "dbt_project.yml"
    settings = project_file.read_text()
    assert "measurement_dp_epsilon_budget: 1.0" in settings
    project_file.write_text(
        settings.replace("measurement_dp_epsilon_budget: 1.0", "measurement_dp_epsilon_budget: 0.5")
    )
    over_budget = project.dbt("run", "--select", *selection, project_dir=project_copy)
    return project, released.output, over_budget.output if not over_budget.success else ""


def test_dp_noisy_counts_differ_from_exact_ones(with_dp):
    project, _, _ = with_dp
    ((cells, positive, differing, all_dp),) = project.query(
        "select count(*), count(*) filter (where recipient_count > 0), "
        "count(*) filter (where recipient_count > 0 and recipient_count <> exact_recipient_count), "
        "bool_and(is_differentially_private and dp_epsilon = 1.0) "
        "from measurement.int_campaign_cells_suppressed where cell_level = 'cell'"
    )
    assert cells > 0 and all_dp
    # Negative noisy counts are published as 0, so compare where the noisy count is
    # positive: there, discrete Laplace noise of scale 24 is 0 with probability ~2 %.
    assert positive > 0.2 * cells
    assert differing > 0.9 * positive


def test_dp_release_publishes_noisy_counts_of_nobody_or_at_least_k(with_dp):
    project, _, _ = with_dp
    ((below, exact_published),) = project.query(
        # A noisy count of 0 is published as such: post-processing of the noise.
        f"select count(*) filter (where recipient_count between 1 and {K - 1}), "
        "count(*) filter (where not is_differentially_private) "
        "from measurement.rpt_campaign_performance"
    )
    assert (below, exact_published) == (0, 0)
    columns = {
        c
        for (c,) in project.query(
            "select column_name from information_schema.columns "
            "where table_name = 'rpt_campaign_performance'"
        )
    }
    assert not any(c.startswith("exact_") for c in columns)


def test_the_ledger_records_the_spend(with_dp):
    project, _, _ = with_dp
    rows = project.query(
        "select model_name, epsilon, delta, epsilon_budget, max_partitions_per_subject, "
        "groups_declared, groups_released from measurement.fct_dp_release_ledger"
    )
    ((cells, released),) = project.query(
        "select count(*), count(*) filter (where not is_suppressed) "
        "from measurement.int_campaign_cells_suppressed where cell_level = 'cell'"
    )
    assert rows == [("rpt_campaign_performance", 1.0, 0.0, 1.0, 4, cells, released)]


def test_a_build_over_the_epsilon_budget_fails_and_spends_nothing(with_dp):
    project, _, failure = with_dp
    assert "Differential privacy budget exceeded" in failure
    assert "rpt_campaign_performance (epsilon 1.0)" in failure
    ((entries,),) = project.query("select count(*) from measurement.fct_dp_release_ledger")
    assert entries == 1
