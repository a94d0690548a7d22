{#-
    The collector's event id, IP address, referrer URL, utm_campaign text,
    geolocated country and user agent string are not kept: the user agent
    only survives as a device class, the referrer as a referrer class (seed
    referrer_classes), the utm_campaign as a registered landing campaign
    (seed landing_campaigns; any other value is 'other') and the country as
    a market region (seed country_regions).
    Incremental (docs/performance.md, Incremental runs): a run hashes and
    classifies only the events dated after the late-data window or before
    the oldest row kept. Appended, like the email events (no event id is
    kept). Window delete, retention and erasure purge: macros/incremental;
    an anonymous event (no customer) leaves by retention alone.
#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ incremental_window_delete() }}",
    post_hook="{{ purge_expired_and_erased() }}",
) }}

with

web_events as (
    select
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
    from {{ ref('stg_web__events') }}
    where
        occurred_at >= {{ retention_start('web_events') }}
        and {{ incremental_rows_filter('cast(occurred_at as date)') }}
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

referrer_classes as (
    select
        match_order,
        referrer_pattern,
        referrer_class
    from {{ ref('referrer_classes') }}
),

landing_campaigns as (
    select
        utm_campaign,
        landing_campaign
    from {{ ref('landing_campaigns') }}
),

country_regions as (
    select
        country_code,
        market_region
    from {{ ref('country_regions') }}
),

customer_keys as (
    {{ distinct_pseudonyms('customer', 'web_events', 'customer_id') }}
),

session_keys as (
    {{ distinct_pseudonyms('session', 'web_events', 'session_id') }}
),

{# few distinct user agents: classify each once, first matching pattern wins -#}
user_agents_classified as (
    select
        distinct_user_agents.user_agent,
        coalesce(
            min_by(device_classes.device_class, device_classes.match_order), 'other'
        ) as device_class
    from (select distinct user_agent from web_events) as distinct_user_agents
    left join device_classes
        on {{ text_matches(
            'distinct_user_agents.user_agent', 'device_classes.user_agent_pattern') }}
    group by distinct_user_agents.user_agent
),

{# few distinct referrers: classify each once, first matching pattern wins -#}
referrers_classified as (
    select
        distinct_referrers.referrer,
        coalesce(
            min_by(referrer_classes.referrer_class, referrer_classes.match_order), 'other'
        ) as referrer_class
    from (
        select distinct referrer from web_events
        where referrer is not null
    ) as distinct_referrers
    left join referrer_classes
        on {{ text_matches(
            'distinct_referrers.referrer', 'referrer_classes.referrer_pattern') }}
    group by distinct_referrers.referrer
),

web_events_generalized as (
    select
        customer_keys.customer_key,
        session_keys.session_key,
        web_events.event_type,
        web_events.page_category,
        web_events.product_id,
        {{ generalize_timestamp('web_events.occurred_at', 'occurred') }},
        coalesce(user_agents_classified.device_class, 'unknown') as device_class,
        case
            when web_events.referrer is null then 'direct'
            else referrers_classified.referrer_class
        end as referrer_class,
        case
            when web_events.utm_campaign is null then 'none'
            else coalesce(landing_campaigns.landing_campaign, 'other')
        end as landing_campaign,
        coalesce(country_regions.market_region, 'unknown') as market_region
    from web_events
    left join customer_keys
        on web_events.customer_id = customer_keys.customer_id
    inner join session_keys
        on web_events.session_id = session_keys.session_id
    left join user_agents_classified
        on web_events.user_agent = user_agents_classified.user_agent
    left join referrers_classified
        on web_events.referrer = referrers_classified.referrer
    left join landing_campaigns
        on web_events.utm_campaign = landing_campaigns.utm_campaign
    left join country_regions
        on web_events.geo_country = country_regions.country_code
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
        web_events_generalized.device_class,
        web_events_generalized.referrer_class,
        web_events_generalized.landing_campaign,
        web_events_generalized.market_region
    from web_events_generalized
    inner join dayparts
        on web_events_generalized.occurred_hour = dayparts.hour_of_day
)

select * from final
