{#-
    The released rows of int_campaign_cells_suppressed with the rates BI
    asks for. Rates and revenue per recipient are computed from the
    released (exact, or noisy under DP) counts, never from exact ones.
-#}
with

campaign_cells as (
    select
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
        is_suppressed,
        as_of_date
    from {{ ref('int_campaign_cells_suppressed') }}
),

rates_computed as (
    select
        campaign_cells.*,
        {#- Noisy counts can be inconsistent (more clicks than opens): rates are capped at 1. #}
        least(campaign_cells.open_count / nullif(campaign_cells.recipient_count, 0), 1)
            as open_rate,
        least(campaign_cells.click_count / nullif(campaign_cells.recipient_count, 0), 1)
            as click_rate,
        least(campaign_cells.click_count / nullif(campaign_cells.open_count, 0), 1)
            as click_to_open_rate,
        least(campaign_cells.unsubscribe_count / nullif(campaign_cells.recipient_count, 0), 1)
            as unsubscribe_rate,
        least(campaign_cells.conversion_count / nullif(campaign_cells.recipient_count, 0), 1)
            as conversion_rate,
        campaign_cells.revenue_eur / nullif(campaign_cells.recipient_count, 0)
            as revenue_per_recipient_eur
    from campaign_cells
    where not campaign_cells.is_suppressed
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
