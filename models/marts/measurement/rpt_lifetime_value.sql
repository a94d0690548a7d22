{#-
    The rows of lifetime value by cohort that the release publishes
    (int_release_decisions), each value per member withheld (NULL) where its
    magnitude rules or differencing across the release say so; the projection
    goes with either of the values it is made of.
-#}

with

value_cells as (
    select
        release_row_id,
        cohort_month,
        cell_level,
        segment_name,
        member_count,
        orders_per_member,
        observed_value_per_member_eur,
        window_value_per_member_eur,
        projected_value_per_member_eur,
        as_of_date
    from {{ ref('int_lifetime_value_cells_suppressed') }}
),

{{ release_decided('rpt_lifetime_value') }},

final as (
    select
        value_cells.cohort_month,
        value_cells.cell_level,
        value_cells.segment_name,
        value_cells.member_count,
        {{ released_magnitude('value_cells.orders_per_member', ['lifetime_orders']) }}
            as orders_per_member,
        {{ released_magnitude(
            'value_cells.observed_value_per_member_eur', ['lifetime_value_eur']
        ) }} as observed_value_per_member_eur,
        {{ released_magnitude(
            'value_cells.window_value_per_member_eur', ['value_in_window_eur']
        ) }} as window_value_per_member_eur,
        {{ released_magnitude(
            'value_cells.projected_value_per_member_eur',
            ['lifetime_value_eur', 'value_in_window_eur']
        ) }} as projected_value_per_member_eur,
        cast({{ var('measurement_ltv_projection_years') | float }} as double) as projection_years,
        value_cells.as_of_date
    from value_cells
    inner join rows_released
        on value_cells.release_row_id = rows_released.row_id
    left join magnitudes_withheld
        on value_cells.release_row_id = magnitudes_withheld.row_id
    order by all
)

select * from final
