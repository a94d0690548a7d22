{#-
    One row per acquisition cohort and primary segment cell, plus one total
    row per cohort: members, observed lifetime value and orders per member,
    the trailing-window value, a simple projection, and whether (and why)
    the row is suppressed.

    The cells partition a cohort (every buyer has one primary segment, or
    none), so the cohort total is the sum of its cells; rpt_segment_summary
    publishes every segment's size and mean lifetime value, the sum of a
    segment's cells over all cohorts. Rows are marked here as primary
    (a cell or cohort below k); the release decides what else to withhold so
    that a withheld cell can be recovered neither from its cohort nor from its
    segment (int_release_decisions).

    Projection (documented in the measurement docs): observed value per
    member + var measurement_ltv_projection_years x the cell's value per
    member in the trailing window, annualized (window var
    behavior_window_days): a run-rate that assumes the cell keeps buying as
    it did in the last window, without churn or discounting.
-#}
{%- set k = published_privacy('rpt_lifetime_value').k -%}
{%- set years = var('measurement_ltv_projection_years') | float -%}
{%- set annualize = 365.0 / (var('behavior_window_days') | float) -%}
{%- set summed_columns = [
    'member_count', 'lifetime_orders', 'lifetime_value_eur', 'value_in_window_eur',
] -%}
{%- set measures = {
    'lifetime_orders': 'buyers.lifetime_orders',
    'lifetime_value_eur': 'buyers.lifetime_value_eur',
    'value_in_window_eur': 'buyers.value_in_window_eur',
} -%}

with

customer_behavior as (
    select
        customer_key,
        first_purchase_cohort_month,
        lifetime_orders,
        lifetime_value_eur,
        value_in_window_eur
    from {{ ref('fct_customer_behavior') }}
),

primary_segments as (
    {{ primary_segments() }}
),

buyers as (
    select
        customer_behavior.customer_key,
        customer_behavior.first_purchase_cohort_month as cohort_month,
        coalesce(primary_segments.segment_name, 'no_primary_segment') as segment_name,
        customer_behavior.lifetime_orders,
        customer_behavior.lifetime_value_eur,
        customer_behavior.value_in_window_eur
    from customer_behavior
    left join primary_segments
        on customer_behavior.customer_key = primary_segments.customer_key
    where customer_behavior.first_purchase_cohort_month is not null
),

cohorts_declared as (
    select distinct buyers.cohort_month
    from buyers
),

cells_declared as (
    {{ primary_segment_cells('cohorts_declared') }}
),

buyers_aggregated_to_cells as (
    select
        buyers.cohort_month,
        buyers.segment_name,
        count(*) as member_count,
        sum(buyers.lifetime_orders) as lifetime_orders,
        sum(buyers.lifetime_value_eur) as lifetime_value_eur,
        sum(buyers.value_in_window_eur) as value_in_window_eur,
        {{ magnitude_statistics(measures) }} as magnitude_statistics
    from buyers
    group by
        buyers.cohort_month,
        buyers.segment_name
),

cohort_statistics as (
    select
        buyers.cohort_month,
        {{ magnitude_statistics(measures) }} as magnitude_statistics
    from buyers
    group by buyers.cohort_month
),

cells_measured as (
    select
        cells_declared.cohort_month,
        'cell' as cell_level,
        cells_declared.segment_name,
        coalesce(buyers_aggregated_to_cells.member_count, 0) as member_count,
        coalesce(buyers_aggregated_to_cells.lifetime_orders, 0) as lifetime_orders,
        coalesce(buyers_aggregated_to_cells.lifetime_value_eur, 0) as lifetime_value_eur,
        coalesce(buyers_aggregated_to_cells.value_in_window_eur, 0) as value_in_window_eur,
        buyers_aggregated_to_cells.magnitude_statistics
    from cells_declared
    left join buyers_aggregated_to_cells
        on
            cells_declared.cohort_month = buyers_aggregated_to_cells.cohort_month
            and cells_declared.segment_name = buyers_aggregated_to_cells.segment_name
),

cohort_sums as (
    {{ cell_totals(
        'cells_measured', group_by=['cohort_month'], sums=summed_columns,
        constants={'cell_level': 'cohort_total', 'segment_name': 'all'},
    ) }}
),

cohort_totals as (
    select
        cohort_sums.cohort_month,
        cohort_sums.cell_level,
        cohort_sums.segment_name,
        {%- for column in summed_columns %}
        cohort_sums.{{ column }},
        {%- endfor %}
        cohort_statistics.magnitude_statistics
    from cohort_sums
    inner join cohort_statistics
        on cohort_sums.cohort_month = cohort_statistics.cohort_month
),

{{ small_cell_suppression(
    cells='cells_measured', totals='cohort_totals', group_by=['cohort_month'],
    count_column='member_count', k=k, group_below_k_reason='cohort_below_k',
) }},

{{ suppressed_rows_unioned(
    cells='cells_measured_suppressed',
    totals='cohort_totals_suppressed',
    columns=['cohort_month', 'cell_level', 'segment_name', 'magnitude_statistics']
        + summed_columns,
) }},

final as (
    select
        {{ release_row_id(
            'rpt_lifetime_value', ['cohort_month', 'cell_level', 'segment_name'], 'rows_unioned'
        ) }} as release_row_id,
        rows_unioned.cohort_month,
        rows_unioned.cell_level,
        rows_unioned.segment_name,
        cast(rows_unioned.member_count as integer) as member_count,
        {#- DuckDB divides these decimals as doubles and rounds the double (887.175 is
            887.17); rounded_quotient does the same on Spark. #}
        cast({{ rounded_quotient(
            'rows_unioned.lifetime_orders', 'nullif(rows_unioned.member_count, 0)', 2) }}
            as decimal(10, 2)) as orders_per_member,
        cast({{ rounded_quotient(
            'rows_unioned.lifetime_value_eur', 'nullif(rows_unioned.member_count, 0)', 2) }}
            as decimal(14, 2)) as observed_value_per_member_eur,
        cast({{ rounded_quotient(
            'rows_unioned.value_in_window_eur', 'nullif(rows_unioned.member_count, 0)', 2) }}
            as decimal(14, 2)) as window_value_per_member_eur,
        cast({{ rounded_quotient(
            '(rows_unioned.lifetime_value_eur + ' ~ years ~ ' * ' ~ annualize
                ~ ' * rows_unioned.value_in_window_eur)',
            'nullif(rows_unioned.member_count, 0)', 2) }} as decimal(14, 2))
            as projected_value_per_member_eur,
        cast(rows_unioned.magnitude_statistics as string) as magnitude_statistics,
        rows_unioned.is_suppressed,
        rows_unioned.suppression_reason,
        {{ as_of_date() }} as as_of_date
    from rows_unioned
)

select * from final
