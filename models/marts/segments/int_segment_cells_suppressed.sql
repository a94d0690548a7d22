{#-
    The candidate rows of rpt_segment_summary: one row per segment and cell
    (generalized age band x region) plus one total row per segment, with
    member counts, metrics, their magnitude statistics and the primary
    reason a row may not be published on its own:
    - a cell counting fewer than k distinct members (after the age and
      region hierarchies were climbed as far as needed);
    - a segment with fewer than k members, withheld whole.
    An exclusive segment counts the members whose primary segment it is (the
    same people fct_segment_profiles and the measurement marts count under
    that segment), an overlapping one all its members. What else is withheld,
    so that no row can be recovered from this or any other published table,
    is decided for the whole release (int_release_decisions).
-#}
{%- set k = published_privacy('rpt_segment_summary').k -%}
{%- set measures = {
    'lifetime_value_eur': 'records_generalized.lifetime_value_eur',
    'orders_in_window': 'records_generalized.orders_in_window',
    'recency_days': 'records_generalized.recency_days',
    'repeat_buyer': "case when records_generalized.buyer_type = 'repeat' then 1 else 0 end",
} -%}

with

segment_definitions as (
    select
        segment_name,
        is_exclusive
    from {{ ref('segment_definitions') }}
),

members_described as (
    select
        customer_key,
        segment_name,
        is_primary,
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

memberships_joined as (
    select
        members_described.customer_key,
        members_described.segment_name,
        members_described.age_band__detail,
        members_described.age_band__broad,
        members_described.region__detail,
        members_described.region__broad,
        members_described.lifetime_value_eur,
        members_described.orders_in_window,
        members_described.recency_days,
        members_described.buyer_type
    from members_described
    inner join segment_definitions
        on members_described.segment_name = segment_definitions.segment_name
    where not segment_definitions.is_exclusive or members_described.is_primary
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
        {{ magnitude_statistics(measures) }} as magnitude_statistics,
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
        {{ magnitude_statistics(measures) }} as magnitude_statistics,
        any_value(records_generalized.age_band_level) as age_band_level,
        any_value(records_generalized.region_level) as region_level
    from records_generalized
    group by records_generalized.segment_name
),

{{ small_cell_suppression(
    cells='cells_aggregated',
    totals='segment_totals',
    group_by=['segment_name'],
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
        'repeat_buyer_share', 'magnitude_statistics', 'age_band_level', 'region_level',
    ],
) }},

final as (
    select
        {{ release_row_id(
            'rpt_segment_summary', ['segment_name', 'cell_level', 'age_band', 'region'],
            'rows_unioned'
        ) }} as release_row_id,
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
        cast(rows_unioned.magnitude_statistics as string) as magnitude_statistics,
        rows_unioned.is_suppressed,
        rows_unioned.suppression_reason,
        cast(rows_unioned.age_band_level as integer) as age_band_level,
        cast(rows_unioned.region_level as integer) as region_level,
        {{ as_of_date() }} as as_of_date
    from rows_unioned
)

select * from final
