{#-
    One row per segment and cell (generalized age band x region) plus one
    total row per segment, with member counts and metrics, and whether and
    why the row is suppressed. rpt_segment_summary publishes the rows that
    are not. Suppression:
    - primary: a cell counting fewer than k distinct members (after the
      age and region hierarchies were climbed as far as needed);
    - secondary: within a segment the published total minus the published
      cells gives the sum of the suppressed cells, so while that sum is
      above 0 and below k, the smallest released cells are suppressed too;
    - a segment with fewer than k members is suppressed whole.
    Segments overlap, and no grand total is published, so the segment total
    is the only sum that the cells of a segment add up to. The rule itself
    is the macro small_cell_suppression(), shared with the measurement marts.
-#}
{%- set k = published_privacy('rpt_segment_summary').k -%}

with

memberships_joined as (
    select
        customer_key,
        segment_name,
        age_band__detail,
        age_band__broad,
        region__detail,
        region__broad,
        lifetime_value_eur,
        orders_in_window,
        recency_days,
        buyer_type
    from {{ ref('int_segment_members_described') }}
),

{{ k_anonymous_generalization(
    records='memberships_joined',
    fixed=['segment_name'],
    hierarchies=[
        {'name': 'age_band', 'levels': ['age_band__detail', 'age_band__broad']},
        {'name': 'region', 'levels': ['region__detail', 'region__broad']},
    ],
    k=k,
    max_suppressed_share=var('segments_max_suppressed_share'),
) }},

cells_aggregated as (
    select
        records_generalized.segment_name,
        'cell' as cell_level,
        records_generalized.age_band,
        records_generalized.region,
        count(distinct records_generalized.customer_key) as member_count,
        avg(records_generalized.lifetime_value_eur) as avg_lifetime_value_eur,
        avg(records_generalized.orders_in_window) as avg_orders_in_window,
        avg(records_generalized.recency_days) as avg_recency_days,
        avg(case when records_generalized.buyer_type = 'repeat' then 1.0 else 0.0 end)
            as repeat_buyer_share,
        bool_or(records_generalized.suppression_reason is not null) as is_primary_suppressed,
        any_value(records_generalized.age_band_level) as age_band_level,
        any_value(records_generalized.region_level) as region_level
    from records_generalized
    group by
        records_generalized.segment_name,
        records_generalized.age_band,
        records_generalized.region
),

segment_totals as (
    select
        memberships_joined.segment_name,
        'segment_total' as cell_level,
        'all' as age_band,
        'all' as region,
        count(distinct memberships_joined.customer_key) as member_count,
        avg(memberships_joined.lifetime_value_eur) as avg_lifetime_value_eur,
        avg(memberships_joined.orders_in_window) as avg_orders_in_window,
        avg(memberships_joined.recency_days) as avg_recency_days,
        avg(case when memberships_joined.buyer_type = 'repeat' then 1.0 else 0.0 end)
            as repeat_buyer_share
    from memberships_joined
    group by memberships_joined.segment_name
),

{{ small_cell_suppression(
    cells='cells_aggregated',
    totals='segment_totals',
    group_by=['segment_name'],
    order_by=['age_band', 'region'],
    count_column='member_count',
    k=k,
    primary_suppressed='is_primary_suppressed',
    group_below_k_reason='segment_below_k',
) }},

cells_suppressed as (
    select
        cells_aggregated_suppressed.segment_name,
        cells_aggregated_suppressed.cell_level,
        cells_aggregated_suppressed.age_band,
        cells_aggregated_suppressed.region,
        cells_aggregated_suppressed.member_count,
        cells_aggregated_suppressed.avg_lifetime_value_eur,
        cells_aggregated_suppressed.avg_orders_in_window,
        cells_aggregated_suppressed.avg_recency_days,
        cells_aggregated_suppressed.repeat_buyer_share,
        cells_aggregated_suppressed.suppression_reason,
        cells_aggregated_suppressed.age_band_level,
        cells_aggregated_suppressed.region_level
    from cells_aggregated_suppressed
),

levels_chosen as (
    select
        age_band_level,
        region_level
    from generalization_chosen
),

totals_suppressed as (
    select
        segment_totals_suppressed.segment_name,
        segment_totals_suppressed.cell_level,
        segment_totals_suppressed.age_band,
        segment_totals_suppressed.region,
        segment_totals_suppressed.member_count,
        segment_totals_suppressed.avg_lifetime_value_eur,
        segment_totals_suppressed.avg_orders_in_window,
        segment_totals_suppressed.avg_recency_days,
        segment_totals_suppressed.repeat_buyer_share,
        segment_totals_suppressed.suppression_reason,
        levels_chosen.age_band_level,
        levels_chosen.region_level
    from segment_totals_suppressed
    cross join levels_chosen
),

rows_unioned as (
    select * from cells_suppressed
    union all
    select * from totals_suppressed
),

final as (
    select
        rows_unioned.segment_name,
        rows_unioned.cell_level,
        rows_unioned.age_band,
        rows_unioned.region,
        cast(rows_unioned.member_count as integer) as member_count,
        cast(round(rows_unioned.avg_lifetime_value_eur, 2) as decimal(14, 2)) as avg_lifetime_value_eur,
        cast(round(rows_unioned.avg_orders_in_window, 2) as decimal(10, 2)) as avg_orders_in_window,
        cast(round(rows_unioned.avg_recency_days, 1) as decimal(10, 1)) as avg_recency_days,
        cast(round(rows_unioned.repeat_buyer_share, 2) as decimal(3, 2)) as repeat_buyer_share,
        rows_unioned.suppression_reason is not null as is_suppressed,
        rows_unioned.suppression_reason,
        cast(rows_unioned.age_band_level as integer) as age_band_level,
        cast(rows_unioned.region_level as integer) as region_level,
        {{ as_of_date() }} as as_of_date
    from rows_unioned
)

select * from final
