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
        {{ segment_cell_metrics('records_generalized') }},
        bool_or(records_generalized.suppression_reason is not null) as is_primary_suppressed,
        any_value(records_generalized.age_band_level) as age_band_level,
        any_value(records_generalized.region_level) as region_level
    from records_generalized
    group by
        records_generalized.segment_name,
        records_generalized.age_band,
        records_generalized.region
),

{#- Every membership once (records_generalized holds them all, suppressed or
    not), with the levels chosen for the cells. #}

segment_totals as (
    select
        records_generalized.segment_name,
        'segment_total' as cell_level,
        'all' as age_band,
        'all' as region,
        {{ segment_cell_metrics('records_generalized') }},
        any_value(records_generalized.age_band_level) as age_band_level,
        any_value(records_generalized.region_level) as region_level
    from records_generalized
    group by records_generalized.segment_name
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

{{ suppressed_rows_unioned(
    cells='cells_aggregated_suppressed',
    totals='segment_totals_suppressed',
    columns=[
        'segment_name', 'cell_level', 'age_band', 'region', 'member_count',
        'avg_lifetime_value_eur', 'avg_orders_in_window', 'avg_recency_days',
        'repeat_buyer_share', 'age_band_level', 'region_level',
    ],
) }},

final as (
    select
        rows_unioned.segment_name,
        rows_unioned.cell_level,
        rows_unioned.age_band,
        rows_unioned.region,
        cast(rows_unioned.member_count as integer) as member_count,
        cast(round(rows_unioned.avg_lifetime_value_eur, 2) as decimal(14, 2))
            as avg_lifetime_value_eur,
        cast(round(rows_unioned.avg_orders_in_window, 2) as decimal(10, 2)) as avg_orders_in_window,
        cast(round(rows_unioned.avg_recency_days, 1) as decimal(10, 1)) as avg_recency_days,
        cast(round(rows_unioned.repeat_buyer_share, 2) as decimal(3, 2)) as repeat_buyer_share,
        rows_unioned.is_suppressed,
        rows_unioned.suppression_reason,
        cast(rows_unioned.age_band_level as integer) as age_band_level,
        cast(rows_unioned.region_level as integer) as region_level,
        {{ as_of_date() }} as as_of_date
    from rows_unioned
)

select * from final
