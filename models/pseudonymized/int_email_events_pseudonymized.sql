{#- The provider's event id is not kept: nothing downstream needs it. #}
with

email_events as (
    select
        campaign_id,
        customer_id,
        event_type,
        occurred_at
    from {{ ref('stg_email__events') }}
    where occurred_at >= {{ retention_start('email_events') }}
),

customer_keys as (
    {{ distinct_pseudonyms('customer', 'email_events', 'customer_id') }}
),

final as (
    select
        email_events.campaign_id,
        customer_keys.customer_key,
        email_events.event_type,
        {{ generalize_timestamp('email_events.occurred_at', 'occurred') }}
    from email_events
    inner join customer_keys
        on email_events.customer_id = customer_keys.customer_id
)

select * from final
