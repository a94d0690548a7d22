{#-
    The collector's event id, IP address, referrer and user agent string are
    not kept; the user agent only survives as a device class.
#}
with

web_events as (
    select
        customer_id,
        session_id,
        event_type,
        page_category,
        product_id,
        occurred_at,
        user_agent
    from {{ ref('stg_web__events') }}
    where occurred_at >= {{ retention_start('web_events') }}
),

dayparts as (
    select
        hour_of_day,
        daypart
    from {{ ref('dayparts') }}
),

device_classes as (
    select
        match_order,
        user_agent_pattern,
        device_class
    from {{ ref('device_classes') }}
),

customer_keys as (
    {{ distinct_pseudonyms('customer', 'web_events', 'customer_id') }}
),

session_keys as (
    {{ distinct_pseudonyms('session', 'web_events', 'session_id') }}
),

{#- few distinct user agents: classify each once, first matching pattern wins #}
user_agents_classified as (
    select
        distinct_user_agents.user_agent,
        coalesce(
            min_by(device_classes.device_class, device_classes.match_order), 'other'
        ) as device_class
    from (select distinct user_agent from web_events) as distinct_user_agents
    left join device_classes
        on regexp_matches(distinct_user_agents.user_agent, device_classes.user_agent_pattern)
    group by distinct_user_agents.user_agent
),

web_events_generalized as (
    select
        customer_keys.customer_key,
        session_keys.session_key,
        web_events.event_type,
        web_events.page_category,
        web_events.product_id,
        {{ generalize_timestamp('web_events.occurred_at', 'occurred') }},
        coalesce(user_agents_classified.device_class, 'unknown') as device_class
    from web_events
    left join customer_keys
        on web_events.customer_id = customer_keys.customer_id
    inner join session_keys
        on web_events.session_id = session_keys.session_id
    left join user_agents_classified
        on web_events.user_agent = user_agents_classified.user_agent
),

final as (
    select
        web_events_generalized.customer_key,
        web_events_generalized.session_key,
        web_events_generalized.event_type,
        web_events_generalized.page_category,
        web_events_generalized.product_id,
        web_events_generalized.occurred_date,
        web_events_generalized.occurred_hour,
        dayparts.daypart as occurred_daypart,
        web_events_generalized.occurred_day_of_week,
        web_events_generalized.device_class
    from web_events_generalized
    inner join dayparts
        on web_events_generalized.occurred_hour = dayparts.hour_of_day
)

select * from final
