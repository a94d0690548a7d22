{#-
    The candidate rows of rpt_cohort_retention: one row per acquisition
    cohort (month of the first purchase) and month since it (0 = the
    first-purchase month, up to the month of as_of): the cohort's size, how
    many of its members purchased in that month, and the primary reason a row
    may not be published on its own (a cell or a cohort below k). A member
    active in several months counts in each, so the cells of a cohort do not
    add up to its size; but each is part of the cohort, so the release also
    keeps the buyers not active in a month (size minus active) at 0 or at
    least k (int_release_decisions). No spend is published here: differences
    of a cohort's cumulative value from month to month would publish the
    spend of the few buyers active in a month; rpt_lifetime_value publishes
    each cohort's value under the magnitude rules.
-#}
{%- set k = published_privacy('rpt_cohort_retention').k -%}

with

customer_behavior as (
    select
        customer_key,
        first_purchase_cohort_month
    from {{ ref('fct_customer_behavior') }}
),

orders as (
    select
        customer_key,
        ordered_date,
        order_status
    from {{ ref('fct_orders') }}
),

buyers as (
    select
        customer_behavior.customer_key,
        customer_behavior.first_purchase_cohort_month as cohort_month
    from customer_behavior
    where customer_behavior.first_purchase_cohort_month is not null
),

cohorts_sized as (
    select
        buyers.cohort_month,
        count(*) as cohort_size,
        {{ dbt.datediff('buyers.cohort_month', dbt.date_trunc('month', as_of_date()), 'month') }}
            as months_observed
    from buyers
    group by buyers.cohort_month
),

purchases_by_month as (
    select
        orders.customer_key,
        {{ dbt.date_trunc('month', 'orders.ordered_date') }} as order_month
    from orders
    where
        orders.order_status in (
            {{ "'" ~ (var('behavior_purchase_statuses') | join("', '")) ~ "'" }}
        )
        and orders.ordered_date <= {{ as_of_date() }}
    group by
        orders.customer_key,
        {{ dbt.date_trunc('month', 'orders.ordered_date') }}
),

activity_by_cohort_month as (
    select
        buyers.cohort_month,
        {{ dbt.datediff('buyers.cohort_month', 'purchases_by_month.order_month', 'month') }}
            as months_since_first_purchase,
        count(distinct buyers.customer_key) as active_subjects
    from buyers
    inner join purchases_by_month
        on buyers.customer_key = purchases_by_month.customer_key
    group by all
),

month_offsets as (
    select month_offset.months_since_first_purchase
    from {{ integer_series(0, 1200, 'months_since_first_purchase') }} as month_offset
),

cells_measured as (
    select
        cohorts_sized.cohort_month,
        month_offsets.months_since_first_purchase,
        cohorts_sized.cohort_size,
        coalesce(activity_by_cohort_month.active_subjects, 0) as active_subjects
    from cohorts_sized
    inner join month_offsets
        on cohorts_sized.months_observed >= month_offsets.months_since_first_purchase
    left join activity_by_cohort_month
        on
            cohorts_sized.cohort_month = activity_by_cohort_month.cohort_month
            and month_offsets.months_since_first_purchase
                = activity_by_cohort_month.months_since_first_purchase
),

{{ small_cell_suppression(
    cells='cells_measured', totals='cohorts_sized', group_by=['cohort_month'],
    count_column='active_subjects', k=k, total_count_column='cohort_size',
    group_below_k_reason='cohort_below_k',
) }},

final as (
    select
        {{ release_row_id(
            'rpt_cohort_retention', ['cohort_month', 'months_since_first_purchase'],
            'cells_measured_suppressed'
        ) }} as release_row_id,
        cells_measured_suppressed.cohort_month,
        cast(cells_measured_suppressed.months_since_first_purchase as integer)
            as months_since_first_purchase,
        cast(cells_measured_suppressed.cohort_size as integer) as cohort_size,
        cast(cells_measured_suppressed.active_subjects as integer) as active_subjects,
        cast(
            round(
                cells_measured_suppressed.active_subjects / cells_measured_suppressed.cohort_size, 4
            )
            as decimal(5, 4)
        ) as retention_rate,
        cells_measured_suppressed.months_since_first_purchase
            = {{ dbt.datediff(
                'cells_measured_suppressed.cohort_month',
                dbt.date_trunc('month', as_of_date()),
                'month'
            ) }}
            as is_partial_month,
        cells_measured_suppressed.suppression_reason is not null as is_suppressed,
        cells_measured_suppressed.suppression_reason,
        {{ as_of_date() }} as as_of_date
    from cells_measured_suppressed
)

select * from final
