{#-
    Incremental (docs/performance.md, Incremental runs): a run hashes only
    the events dated after the late-data window or before the oldest row
    kept. Appended: without the provider's event id there is no key to
    replace by. Window delete, retention and erasure purge: macros/
    incremental.
#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ incremental_window_delete() }}",
    post_hook="{{ purge_expired_and_erased() }}",
) }}

{#- The provider's event id is not kept: nothing downstream needs it. #}
with

email_events as (
    select
        campaign_id,
        customer_id,
        event_type,
        occurred_at
    from {{ ref('stg_email__events') }}
    where
        occurred_at >= {{ retention_start('email_events') }}
        and {{ incremental_rows_filter('cast(occurred_at as date)') }}
),

dayparts as (
    select
        hour_of_day,
        daypart
    from {{ ref('dayparts') }}
),

customer_keys as (
    {{ distinct_pseudonyms('customer', 'email_events', 'customer_id') }}
),

email_events_generalized as (
    select
        email_events.campaign_id,
        customer_keys.customer_key,
        email_events.event_type,
        {{ generalize_timestamp('email_events.occurred_at', 'occurred') }}
    from email_events
    inner join customer_keys
        on email_events.customer_id = customer_keys.customer_id
),

final as (
    select
        email_events_generalized.campaign_id,
        email_events_generalized.customer_key,
        email_events_generalized.event_type,
        email_events_generalized.occurred_date,
        email_events_generalized.occurred_hour,
        dayparts.daypart as occurred_daypart,
        email_events_generalized.occurred_day_of_week
    from email_events_generalized
    inner join dayparts
        on email_events_generalized.occurred_hour = dayparts.hour_of_day
)

select * from final
