{#-
    One row per acquisition cohort and primary segment cell, plus one total
    row per cohort: members, observed lifetime value and orders per member,
    the trailing-window value, a simple projection, and whether (and why)
    the row is suppressed.

    The cells partition a cohort (every buyer has one primary segment, or
    none), so the cohort total is the sum of its cells: suppression first
    runs along cohorts. rpt_segment_summary publishes every segment's size
    and mean lifetime value, i.e. the sum of a segment's cells over all
    cohorts, so suppression then runs along segments too (with the cells
    withheld so far as primary): a suppressed cell can be recovered neither
    from its cohort nor from its segment. The second pass only withholds
    released cells, which count at least k, so it cannot reopen the first.

    Projection (documented in the measurement docs): observed value per
    member + var measurement_ltv_projection_years x the cell's value per
    member in the trailing window, annualized (window var
    behavior_window_days): a run-rate that assumes the cell keeps buying as
    it did in the last window, without churn or discounting.
-#}
{%- set k = published_privacy('rpt_lifetime_value').k -%}
{%- set years = var('measurement_ltv_projection_years') | float -%}
{%- set annualize = 365.0 / (var('behavior_window_days') | float) -%}

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

segment_membership as (
    select
        customer_key,
        segment_name,
        is_primary
    from {{ ref('fct_segment_membership') }}
),

segment_definitions as (
    select
        segment_name,
        is_exclusive
    from {{ ref('segment_definitions') }}
),

buyers as (
    select
        customer_behavior.customer_key,
        customer_behavior.first_purchase_cohort_month as cohort_month,
        coalesce(primary_memberships.segment_name, 'no_primary_segment') as segment_name,
        customer_behavior.lifetime_orders,
        customer_behavior.lifetime_value_eur,
        customer_behavior.value_in_window_eur
    from customer_behavior
    left join segment_membership as primary_memberships
        on
            customer_behavior.customer_key = primary_memberships.customer_key
            and primary_memberships.is_primary
    where customer_behavior.first_purchase_cohort_month is not null
),

cohorts_declared as (
    select distinct buyers.cohort_month
    from buyers
),

segments_declared as (
    select segment_definitions.segment_name
    from segment_definitions
    where segment_definitions.is_exclusive
    union all
    select 'no_primary_segment' as segment_name
),

cells_measured as (
    select
        cohorts_declared.cohort_month,
        'cell' as cell_level,
        segments_declared.segment_name,
        count(buyers.customer_key) as member_count,
        coalesce(sum(buyers.lifetime_orders), 0) as lifetime_orders,
        coalesce(sum(buyers.lifetime_value_eur), 0) as lifetime_value_eur,
        coalesce(sum(buyers.value_in_window_eur), 0) as value_in_window_eur
    from cohorts_declared
    cross join segments_declared
    left join buyers
        on
            cohorts_declared.cohort_month = buyers.cohort_month
            and segments_declared.segment_name = buyers.segment_name
    group by
        cohorts_declared.cohort_month,
        segments_declared.segment_name
),

cohort_totals as (
    select
        cells_measured.cohort_month,
        'cohort_total' as cell_level,
        'all' as segment_name,
        sum(cells_measured.member_count) as member_count,
        sum(cells_measured.lifetime_orders) as lifetime_orders,
        sum(cells_measured.lifetime_value_eur) as lifetime_value_eur,
        sum(cells_measured.value_in_window_eur) as value_in_window_eur
    from cells_measured
    group by cells_measured.cohort_month
),

segment_totals as (
    select
        cells_measured.segment_name,
        sum(cells_measured.member_count) as member_count
    from cells_measured
    group by cells_measured.segment_name
),

{{ small_cell_suppression(
    cells='cells_measured',
    totals='cohort_totals',
    group_by=['cohort_month'],
    order_by=['segment_name'],
    count_column='member_count',
    k=k,
    group_below_k_reason='cohort_below_k',
) }},

cells_suppressed_by_cohort as (
    select
        cells_measured_suppressed.cohort_month,
        cells_measured_suppressed.cell_level,
        cells_measured_suppressed.segment_name,
        cells_measured_suppressed.member_count,
        cells_measured_suppressed.lifetime_orders,
        cells_measured_suppressed.lifetime_value_eur,
        cells_measured_suppressed.value_in_window_eur,
        cells_measured_suppressed.suppression_reason as cohort_suppression_reason
    from cells_measured_suppressed
),

{{ small_cell_suppression(
    cells='cells_suppressed_by_cohort',
    totals='segment_totals',
    group_by=['segment_name'],
    order_by=['cohort_month'],
    count_column='member_count',
    k=k,
    primary_suppressed='cohort_suppression_reason is not null',
    group_below_k_reason='segment_below_k',
) }},

rows_unioned as (
    select
        cells_suppressed_by_cohort_suppressed.cohort_month,
        cells_suppressed_by_cohort_suppressed.cell_level,
        cells_suppressed_by_cohort_suppressed.segment_name,
        cells_suppressed_by_cohort_suppressed.member_count,
        cells_suppressed_by_cohort_suppressed.lifetime_orders,
        cells_suppressed_by_cohort_suppressed.lifetime_value_eur,
        cells_suppressed_by_cohort_suppressed.value_in_window_eur,
        {#- The cohort pass names the first reason; the segment pass adds
            'secondary' (or segment_below_k) for what it withholds on top. #}
        coalesce(
            cells_suppressed_by_cohort_suppressed.cohort_suppression_reason,
            cells_suppressed_by_cohort_suppressed.suppression_reason
        ) as suppression_reason
    from cells_suppressed_by_cohort_suppressed
    union all
    select
        cohort_totals_suppressed.cohort_month,
        cohort_totals_suppressed.cell_level,
        cohort_totals_suppressed.segment_name,
        cohort_totals_suppressed.member_count,
        cohort_totals_suppressed.lifetime_orders,
        cohort_totals_suppressed.lifetime_value_eur,
        cohort_totals_suppressed.value_in_window_eur,
        cohort_totals_suppressed.suppression_reason
    from cohort_totals_suppressed
),

final as (
    select
        rows_unioned.cohort_month,
        rows_unioned.cell_level,
        rows_unioned.segment_name,
        cast(rows_unioned.member_count as integer) as member_count,
        cast(round(rows_unioned.lifetime_orders / nullif(rows_unioned.member_count, 0), 2)
            as decimal(10, 2)) as orders_per_member,
        cast(round(rows_unioned.lifetime_value_eur / nullif(rows_unioned.member_count, 0), 2)
            as decimal(14, 2)) as observed_value_per_member_eur,
        cast(round(rows_unioned.value_in_window_eur / nullif(rows_unioned.member_count, 0), 2)
            as decimal(14, 2)) as window_value_per_member_eur,
        cast(round(
            (rows_unioned.lifetime_value_eur
                + {{ years }} * {{ annualize }} * rows_unioned.value_in_window_eur)
            / nullif(rows_unioned.member_count, 0), 2) as decimal(14, 2)) as projected_value_per_member_eur,
        rows_unioned.suppression_reason is not null as is_suppressed,
        rows_unioned.suppression_reason,
        {{ as_of_date() }} as as_of_date
    from rows_unioned
)

select * from final
