{#-
    One row per email campaign launched in the reporting window and
    consenting recipient; a campaign without a consenting recipient keeps
    one row with customer_key NULL, so that every campaign the shop sent is
    a group of the measurement release whether or not data falls into it.
    Attribution is last click: an order (purchase statuses) counts for the
    campaign whose email the subject clicked most recently on or before the
    order day, at most var measurement_attribution_days days before it.
-#}
{%- set attribution_days = var('measurement_attribution_days') | int -%}
{%- if attribution_days < 0 -%}
    {{ exceptions.raise_compiler_error(
        "var measurement_attribution_days must be a whole number of days >= 0, got "
        ~ var('measurement_attribution_days')) }}
{%- endif -%}

with

campaigns as (
    select
        campaign_id,
        campaign_name,
        campaign_objective,
        launched_at
    from {{ ref('stg_email__campaigns') }}
),

email_events as (
    select
        campaign_id,
        customer_key,
        event_type,
        occurred_date
    from {{ ref('fct_email_events') }}
),

orders as (
    select
        order_key,
        customer_key,
        ordered_date,
        order_status,
        order_value_eur
    from {{ ref('fct_orders') }}
),

primary_segments as (
    {{ primary_segments() }}
),

campaigns_in_window as (
    select
        campaigns.campaign_id,
        campaigns.campaign_name,
        campaigns.campaign_objective,
        cast(campaigns.launched_at as date) as launched_date
    from campaigns
    where
        cast(campaigns.launched_at as date) <= {{ as_of_date() }}
        and {{ in_behavior_window('cast(campaigns.launched_at as date)') }}
),

events_aggregated_to_recipients as (
    select
        email_events.campaign_id,
        email_events.customer_key,
        count(*) filter (where email_events.event_type = 'send') as send_count,
        coalesce(bool_or(email_events.event_type = 'open'), false) as is_opened,
        coalesce(bool_or(email_events.event_type = 'click'), false) as is_clicked,
        coalesce(bool_or(email_events.event_type = 'unsubscribe'), false) as is_unsubscribed,
        min(email_events.occurred_date) filter (where email_events.event_type = 'click')
            as first_clicked_date
    from email_events
    where email_events.occurred_date <= {{ as_of_date() }}
    group by
        email_events.campaign_id,
        email_events.customer_key
    {#- A recipient is someone the campaign was sent to. #}
    having count(*) filter (where email_events.event_type = 'send') > 0
),

clicks as (
    select distinct
        email_events.campaign_id,
        email_events.customer_key,
        email_events.occurred_date as clicked_date
    from email_events
    where
        email_events.event_type = 'click'
        and email_events.occurred_date <= {{ as_of_date() }}
),

purchases as (
    select
        orders.order_key,
        orders.customer_key,
        orders.ordered_date,
        orders.order_value_eur
    from orders
    where
        orders.order_status in (
            {{ "'" ~ (var('behavior_purchase_statuses') | join("', '")) ~ "'" }}
        )
        and orders.ordered_date <= {{ as_of_date() }}
),

purchases_matched_to_clicks as (
    select
        purchases.order_key,
        purchases.customer_key,
        purchases.order_value_eur,
        clicks.campaign_id,
        row_number() over (
            partition by purchases.order_key
            order by clicks.clicked_date desc, clicks.campaign_id desc
        ) as click_recency_rank
    from purchases
    inner join clicks
        on
            purchases.customer_key = clicks.customer_key
            and purchases.ordered_date >= clicks.clicked_date
            and purchases.ordered_date <= clicks.clicked_date + {{ attribution_days }}
),

purchases_attributed_to_recipients as (
    select
        purchases_matched_to_clicks.campaign_id,
        purchases_matched_to_clicks.customer_key,
        count(*) as attributed_orders,
        sum(purchases_matched_to_clicks.order_value_eur) as attributed_revenue_eur
    from purchases_matched_to_clicks
    where purchases_matched_to_clicks.click_recency_rank = 1
    group by
        purchases_matched_to_clicks.campaign_id,
        purchases_matched_to_clicks.customer_key
),

final as (
    select
        campaigns_in_window.campaign_id,
        campaigns_in_window.campaign_name,
        campaigns_in_window.campaign_objective,
        campaigns_in_window.launched_date,
        events_aggregated_to_recipients.customer_key,
        case
            when events_aggregated_to_recipients.customer_key is not null
                then coalesce(primary_segments.segment_name, 'no_primary_segment')
        end as primary_segment,
        cast(coalesce(events_aggregated_to_recipients.send_count, 0) as integer) as send_count,
        coalesce(events_aggregated_to_recipients.is_opened, false) as is_opened,
        coalesce(events_aggregated_to_recipients.is_clicked, false) as is_clicked,
        coalesce(events_aggregated_to_recipients.is_unsubscribed, false) as is_unsubscribed,
        events_aggregated_to_recipients.first_clicked_date,
        coalesce(purchases_attributed_to_recipients.attributed_orders, 0) > 0 as is_converted,
        cast(coalesce(purchases_attributed_to_recipients.attributed_orders, 0) as integer)
            as attributed_orders,
        cast(
            coalesce(purchases_attributed_to_recipients.attributed_revenue_eur, 0) as decimal(14, 2)
        ) as attributed_revenue_eur,
        {{ as_of_date() }} as as_of_date
    from campaigns_in_window
    left join events_aggregated_to_recipients
        on campaigns_in_window.campaign_id = events_aggregated_to_recipients.campaign_id
    left join primary_segments
        on events_aggregated_to_recipients.customer_key = primary_segments.customer_key
    left join purchases_attributed_to_recipients
        on
            events_aggregated_to_recipients.campaign_id
                = purchases_attributed_to_recipients.campaign_id
            and events_aggregated_to_recipients.customer_key
                = purchases_attributed_to_recipients.customer_key
)

select * from final
