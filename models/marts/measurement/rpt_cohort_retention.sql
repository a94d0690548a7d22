with

retention_cells as (
    select
        cohort_month,
        months_since_first_purchase,
        cohort_size,
        active_subjects,
        retention_rate,
        cumulative_value_per_member_eur,
        is_partial_month,
        is_suppressed,
        as_of_date
    from {{ ref('int_cohort_retention_suppressed') }}
),

final as (
    select
        retention_cells.cohort_month,
        retention_cells.months_since_first_purchase,
        retention_cells.cohort_size,
        retention_cells.active_subjects,
        retention_cells.retention_rate,
        retention_cells.cumulative_value_per_member_eur,
        retention_cells.is_partial_month,
        retention_cells.as_of_date
    from retention_cells
    where not retention_cells.is_suppressed
    order by all
)

select * from final
