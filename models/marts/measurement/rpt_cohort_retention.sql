{#- The rows of cohort retention that the release publishes (int_release_decisions). -#}

with

retention_cells as (
    select
        release_row_id,
        cohort_month,
        months_since_first_purchase,
        cohort_size,
        active_subjects,
        retention_rate,
        is_partial_month,
        as_of_date
    from {{ ref('int_cohort_retention_suppressed') }}
),

{{ release_decided('rpt_cohort_retention') }},

final as (
    select
        retention_cells.cohort_month,
        retention_cells.months_since_first_purchase,
        retention_cells.cohort_size,
        retention_cells.active_subjects,
        retention_cells.retention_rate,
        retention_cells.is_partial_month,
        retention_cells.as_of_date
    from retention_cells
    inner join rows_released
        on retention_cells.release_row_id = rows_released.row_id
    order by all
)

select * from final
