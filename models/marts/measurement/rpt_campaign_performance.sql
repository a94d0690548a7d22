{#-
    The rows of int_campaign_cells_suppressed that the release publishes
    (int_release_decisions), with the rates BI asks for. Rates and revenue
    per recipient are computed from the released (exact, or noisy under DP)
    counts, never from exact ones; a count of events or the revenue that the
    release withholds (its magnitude rules, or differencing) is NULL, and so
    is every rate made from it.
-#}
with

campaign_cells as (
    select
        release_row_id,
        campaign_id,
        campaign_name,
        campaign_objective,
        launched_date,
        cell_level,
        segment_name,
        recipient_count,
        send_count,
        open_count,
        click_count,
        unsubscribe_count,
        conversion_count,
        revenue_eur,
        is_differentially_private,
        dp_epsilon,
        is_attribution_complete,
        as_of_date
    from {{ ref('int_campaign_cells_suppressed') }}
),

{{ release_decided('rpt_campaign_performance') }},

cells_released as (
    select
        campaign_cells.campaign_id,
        campaign_cells.campaign_name,
        campaign_cells.campaign_objective,
        campaign_cells.launched_date,
        campaign_cells.cell_level,
        campaign_cells.segment_name,
        campaign_cells.recipient_count,
        {{ released_magnitude('campaign_cells.send_count', ['sends']) }} as send_count,
        {{ released_magnitude('campaign_cells.open_count', ['opened']) }} as open_count,
        {{ released_magnitude('campaign_cells.click_count', ['clicked']) }} as click_count,
        {{ released_magnitude('campaign_cells.unsubscribe_count', ['unsubscribed']) }}
            as unsubscribe_count,
        {{ released_magnitude('campaign_cells.conversion_count', ['converted']) }}
            as conversion_count,
        {{ released_magnitude('campaign_cells.revenue_eur', ['attributed_revenue_eur']) }}
            as revenue_eur,
        campaign_cells.is_differentially_private,
        campaign_cells.dp_epsilon,
        campaign_cells.is_attribution_complete,
        campaign_cells.as_of_date
    from campaign_cells
    inner join rows_released
        on campaign_cells.release_row_id = rows_released.row_id
    left join magnitudes_withheld
        on campaign_cells.release_row_id = magnitudes_withheld.row_id
),

ratios_computed as (
    select
        cells_released.*,
        cells_released.open_count / nullif(cells_released.recipient_count, 0) as open_ratio,
        cells_released.click_count / nullif(cells_released.recipient_count, 0) as click_ratio,
        cells_released.click_count / nullif(cells_released.open_count, 0) as click_to_open_ratio,
        cells_released.unsubscribe_count / nullif(cells_released.recipient_count, 0)
            as unsubscribe_ratio,
        cells_released.conversion_count / nullif(cells_released.recipient_count, 0)
            as conversion_ratio
    from cells_released
),

{#- Noisy counts can be inconsistent (more clicks than opens): rates are capped at 1. A
    withheld count (NULL) leaves its rates NULL: least() would skip the NULL and say 1. #}

rates_computed as (
    select
        ratios_computed.*,
        case when ratios_computed.open_ratio > 1 then 1 else ratios_computed.open_ratio end
            as open_rate,
        case when ratios_computed.click_ratio > 1 then 1 else ratios_computed.click_ratio end
            as click_rate,
        case
            when ratios_computed.click_to_open_ratio > 1 then 1
            else ratios_computed.click_to_open_ratio
        end as click_to_open_rate,
        case
            when ratios_computed.unsubscribe_ratio > 1 then 1
            else ratios_computed.unsubscribe_ratio
        end as unsubscribe_rate,
        case
            when ratios_computed.conversion_ratio > 1 then 1
            else ratios_computed.conversion_ratio
        end as conversion_rate,
        ratios_computed.revenue_eur / nullif(ratios_computed.recipient_count, 0)
            as revenue_per_recipient_eur
    from ratios_computed
),

final as (
    select
        rates_computed.campaign_id,
        rates_computed.campaign_name,
        rates_computed.campaign_objective,
        rates_computed.launched_date,
        rates_computed.cell_level,
        rates_computed.segment_name,
        rates_computed.recipient_count,
        rates_computed.send_count,
        rates_computed.open_count,
        rates_computed.click_count,
        rates_computed.unsubscribe_count,
        rates_computed.conversion_count,
        rates_computed.revenue_eur,
        cast(round(rates_computed.open_rate, 4) as decimal(5, 4)) as open_rate,
        cast(round(rates_computed.click_rate, 4) as decimal(5, 4)) as click_rate,
        cast(round(rates_computed.click_to_open_rate, 4) as decimal(5, 4)) as click_to_open_rate,
        cast(round(rates_computed.unsubscribe_rate, 4) as decimal(5, 4)) as unsubscribe_rate,
        cast(round(rates_computed.conversion_rate, 4) as decimal(5, 4)) as conversion_rate,
        cast(round(rates_computed.revenue_per_recipient_eur, 2) as decimal(14, 2))
            as revenue_per_recipient_eur,
        {{ var('measurement_attribution_days') | int }} as attribution_days,
        rates_computed.is_attribution_complete,
        rates_computed.is_differentially_private,
        rates_computed.dp_epsilon,
        rates_computed.as_of_date
    from rates_computed
    order by all
)

select * from final
