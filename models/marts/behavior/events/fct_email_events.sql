{#
    Incremental, like every model of this folder (dbt_project.yml): see
    the docs block behavior_event_facts for the window, backfill and purge
    rules, which read the purpose and the date column from the yml.
#}
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
    where {{ incremental_window_filter('upstream') }}
),

subjects_in_scope as (
    {{ subjects_in_scope() }}
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
