{#
    The send log: one row per marketing email sent (the email provider's
    `send` events), kept apart from opens and clicks so that what reads it
    learns when the customer was contacted and nothing of what they did.
    The stated-interest audiences read it to honour the contact frequency
    the customer asked for.
#}
with

sends as (
    select
        campaign_id,
        customer_id,
        occurred_at
    from {{ ref('stg_email__events') }}
    where
        event_type = 'send'
        and occurred_at >= {{ retention_start('email_events') }}
),

customer_keys as (
    {{ distinct_pseudonyms('customer', 'sends', 'customer_id') }}
),

final as (
    select
        sends.campaign_id,
        customer_keys.customer_key,
        cast(sends.occurred_at as date) as sent_date
    from sends
    inner join customer_keys
        on sends.customer_id = customer_keys.customer_id
)

select * from final
