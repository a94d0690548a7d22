with

email_events as (
    select * from {{ ref('base_email__events') }}
),

valid_email_events_renamed as (
    select
        email_event_id,
        campaign_id,
        customer_id,
        event_type,
        occurred_at
    from email_events
    where
        _reject_reason is null
        and {{ not_erased('customer_id') }}
)

select * from valid_email_events_renamed
