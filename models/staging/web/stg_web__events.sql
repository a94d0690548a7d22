with

web_events as (
    select * from {{ ref('base_web__events') }}
),

valid_web_events_renamed as (
    select
        event_id as web_event_id,
        customer_id,
        session_id,
        event_type,
        page_category,
        product_id,
        occurred_at,
        user_agent,
        referrer,
        geo_country,
        utm_campaign
    from web_events
    where
        _reject_reason is null
        and {{ not_erased('customer_id') }}
)

select * from valid_web_events_renamed
