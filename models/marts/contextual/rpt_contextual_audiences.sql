{#-
    The rows of the contextual audiences that the release publishes
    (int_release_decisions), each conversion rate withheld (NULL) where its
    magnitude rules or differencing across the release say so. No key, no
    visitor count, no day: a context, an interest, a number of visits.
-#}

with

context_cells as (
    select
        release_row_id,
        context_name,
        referrer_class,
        landing_campaign,
        device_class,
        daypart,
        market_region,
        interest_category,
        cell_level,
        session_count,
        conversion_rate,
        as_of_date
    from {{ ref('int_contextual_cells_suppressed') }}
),

{{ release_decided('rpt_contextual_audiences') }},

final as (
    select
        context_cells.context_name,
        context_cells.referrer_class,
        context_cells.landing_campaign,
        context_cells.device_class,
        context_cells.daypart,
        context_cells.market_region,
        context_cells.interest_category,
        context_cells.cell_level,
        context_cells.session_count,
        {{ released_magnitude('context_cells.conversion_rate', ['converted']) }}
            as conversion_rate,
        context_cells.as_of_date
    from context_cells
    inner join rows_released
        on context_cells.release_row_id = rows_released.row_id
    left join magnitudes_withheld
        on context_cells.release_row_id = magnitudes_withheld.row_id
    order by all
)

select * from final
