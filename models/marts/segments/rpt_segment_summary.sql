{#-
    The rows of the segment summary that the release publishes
    (int_release_decisions), each mean withheld (NULL) where its magnitude rules or
    differencing across the release say so.
-#}

with

segment_cells as (
    select
        release_row_id,
        segment_name,
        cell_level,
        age_band,
        region,
        member_count,
        avg_lifetime_value_eur,
        avg_orders_in_window,
        avg_recency_days,
        repeat_buyer_share,
        as_of_date
    from {{ ref('int_segment_cells_suppressed') }}
),

{{ release_decided('rpt_segment_summary') }},

final as (
    select
        segment_cells.segment_name,
        segment_cells.cell_level,
        segment_cells.age_band,
        segment_cells.region,
        segment_cells.member_count,
        {{ released_magnitude('segment_cells.avg_lifetime_value_eur', ['lifetime_value_eur']) }}
            as avg_lifetime_value_eur,
        {{ released_magnitude('segment_cells.avg_orders_in_window', ['orders_in_window']) }}
            as avg_orders_in_window,
        {{ released_magnitude('segment_cells.avg_recency_days', ['recency_days']) }}
            as avg_recency_days,
        {{ released_magnitude('segment_cells.repeat_buyer_share', ['repeat_buyer']) }}
            as repeat_buyer_share,
        segment_cells.as_of_date
    from segment_cells
    inner join rows_released
        on segment_cells.release_row_id = rows_released.row_id
    left join magnitudes_withheld
        on segment_cells.release_row_id = magnitudes_withheld.row_id
    order by all
)

select * from final
