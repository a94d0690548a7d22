{#
    Incremental: see the behavioural layer docs (behavior_layer) for the
    window, backfill and purge rules shared by every event fact.
#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ incremental_window_delete('occurred_date') }}",
    post_hook="{{ purge_out_of_scope('analytics', 'occurred_date', 'email_events') }}",
) }}

with

email_events as (
    select
        campaign_id,
        customer_key,
        event_type,
        occurred_date,
        occurred_daypart,
        occurred_day_of_week
    from {{ ref('int_email_events_pseudonymized') }} as upstream
    where {{ incremental_window_filter('upstream', 'occurred_date', 'analytics') }}
),

subjects_in_scope as (
    select customer_key
    from {{ ref('int_consented_subjects') }}
    where consent_purpose = 'analytics'
),

final as (
    select
        email_events.campaign_id,
        email_events.customer_key,
        email_events.event_type,
        email_events.occurred_date,
        email_events.occurred_daypart,
        email_events.occurred_day_of_week
    from email_events
    inner join subjects_in_scope
        on email_events.customer_key = subjects_in_scope.customer_key
)

select * from final
