with

value_cells as (
    select
        cohort_month,
        cell_level,
        segment_name,
        member_count,
        orders_per_member,
        observed_value_per_member_eur,
        window_value_per_member_eur,
        projected_value_per_member_eur,
        is_suppressed,
        as_of_date
    from {{ ref('int_lifetime_value_cells_suppressed') }}
),

final as (
    select
        value_cells.cohort_month,
        value_cells.cell_level,
        value_cells.segment_name,
        value_cells.member_count,
        value_cells.orders_per_member,
        value_cells.observed_value_per_member_eur,
        value_cells.window_value_per_member_eur,
        value_cells.projected_value_per_member_eur,
        cast({{ var('measurement_ltv_projection_years') | float }} as double) as projection_years,
        value_cells.as_of_date
    from value_cells
    where not value_cells.is_suppressed
    order by all
)

select * from final
