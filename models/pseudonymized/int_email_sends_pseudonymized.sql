{#
    The send log: one row per marketing email sent (the email provider's
    `send` events), kept apart from opens and clicks so that what reads it
    learns when the customer was contacted and nothing of what they did.
    The stated-interest audiences read it to honour the contact frequency
    the customer asked for.
    Incremental (docs/performance.md, Incremental runs): a run hashes only
    the sends dated after the late-data window or before the oldest row
    kept. Appended, like the email events (no event id is kept). Window
    delete, retention and erasure purge: macros/incremental.
#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ incremental_window_delete() }}",
    post_hook="{{ purge_expired_and_erased() }}",
) }}

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
        and {{ incremental_rows_filter('cast(occurred_at as date)') }}
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
