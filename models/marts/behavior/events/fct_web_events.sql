{#
    Incremental, like every model of this folder (dbt_project.yml): see
    the docs block behavior_event_facts for the window, backfill and purge
    rules, which read the purpose and the date column from the yml.
    Anonymous traffic (no customer) is not kept: there is no subject whose
    consent could cover it.
#}
with

web_events as (
    select
        customer_key,
        session_key,
        event_type,
        page_category,
        product_id,
        occurred_date,
        occurred_daypart,
        occurred_day_of_week,
        device_class
    from {{ ref('int_web_events_pseudonymized') }} as upstream
    where
        customer_key is not null
        and {{ incremental_window_filter('upstream') }}
),

subjects_in_scope as (
    {{ subjects_in_scope() }}
),

final as (
    select
        web_events.customer_key,
        web_events.session_key,
        web_events.event_type,
        web_events.page_category,
        web_events.product_id,
        web_events.occurred_date,
        web_events.occurred_daypart,
        web_events.occurred_day_of_week,
        web_events.device_class
    from web_events
    inner join subjects_in_scope
        on web_events.customer_key = subjects_in_scope.customer_key
)

select * from final
