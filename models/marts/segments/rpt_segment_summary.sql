with

segment_cells as (
    select
        segment_name,
        cell_level,
        age_band,
        region,
        member_count,
        avg_lifetime_value_eur,
        avg_orders_in_window,
        avg_recency_days,
        repeat_buyer_share,
        is_suppressed,
        as_of_date
    from {{ ref('int_segment_cells_suppressed') }}
),

final as (
    select
        segment_cells.segment_name,
        segment_cells.cell_level,
        segment_cells.age_band,
        segment_cells.region,
        segment_cells.member_count,
        segment_cells.avg_lifetime_value_eur,
        segment_cells.avg_orders_in_window,
        segment_cells.avg_recency_days,
        segment_cells.repeat_buyer_share,
        segment_cells.as_of_date
    from segment_cells
    where not segment_cells.is_suppressed
    order by all
)

select * from final
