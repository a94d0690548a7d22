{#-
    One row per visit (session) of the trailing behaviour window in scope of
    contextual_advertising, anonymous visits included when the purpose's
    basis allows (macro in_scope_of_purpose): the visit's context (where it
    came from, landing campaign, device class, daypart and day it started,
    market region), the product category it looked at most and whether it
    ended in a purchase. The keys are here only to count distinct visits and
    visitors for the k checks; rpt_contextual_audiences publishes neither.
-#}
{%- set categories = var('behavior_affinity_categories') -%}

with

web_events as (
    select
        customer_key,
        session_key,
        event_type,
        page_category,
        occurred_date,
        occurred_hour,
        occurred_daypart,
        device_class,
        referrer_class,
        landing_campaign,
        market_region
    from {{ ref('int_web_events_pseudonymized') }}
    where {{ in_behavior_window('occurred_date') }}
),

{# A visit's customer: the logged-in customer of any of its events (NULL = anonymous). #}
sessions_in_scope as (
    select
        web_events.session_key,
        max(web_events.customer_key) as customer_key
    from web_events
    group by web_events.session_key
    having {{ in_scope_of_purpose('max(web_events.customer_key)', 'contextual_advertising') }}
),

{# The landing page is the only one with an outside referrer and a utm_campaign: the pages
    after it are 'internal' and 'none'. A visit with neither came from the shop itself. #}
sessions_described as (
    select
        web_events.session_key,
        min(web_events.occurred_date) as session_date,
        min_by(
            web_events.occurred_daypart,
            web_events.occurred_date + web_events.occurred_hour * interval 1 hour
        ) as daypart,
        coalesce(
            min(web_events.referrer_class) filter (where web_events.referrer_class <> 'internal'),
            'internal'
        ) as referrer_class,
        coalesce(
            min(web_events.landing_campaign) filter (where web_events.landing_campaign <> 'none'),
            'none'
        ) as landing_campaign,
        min(web_events.device_class) as device_class,
        min(web_events.market_region) as market_region,
        bool_or(web_events.event_type = 'purchase') as is_converted
    from web_events
    inner join sessions_in_scope
        on web_events.session_key = sessions_in_scope.session_key
    group by web_events.session_key
),

{# The product category with the most page, product and cart events of the visit (the
    first by name on a tie); shop pages (home, search, account, checkout) are no interest. #}
category_views as (
    select
        web_events.session_key,
        web_events.page_category,
        count(*) as view_count
    from web_events
    where web_events.page_category in (
        {%- for category in categories %}
        '{{ category }}'{{ ',' if not loop.last }}
        {%- endfor %}
    )
    group by web_events.session_key, web_events.page_category
),

interests_ranked as (
    select
        category_views.session_key,
        category_views.page_category,
        row_number() over (
            partition by category_views.session_key
            order by category_views.view_count desc, category_views.page_category asc
        ) as interest_rank
    from category_views
),

final as (
    select
        sessions_in_scope.customer_key,
        sessions_in_scope.session_key,
        sessions_described.session_date,
        sessions_described.daypart,
        sessions_described.referrer_class,
        sessions_described.landing_campaign,
        sessions_described.device_class,
        sessions_described.market_region,
        coalesce(interests_ranked.page_category, 'none') as interest_category,
        sessions_described.is_converted
    from sessions_in_scope
    inner join sessions_described
        on sessions_in_scope.session_key = sessions_described.session_key
    left join interests_ranked
        on
            sessions_in_scope.session_key = interests_ranked.session_key
            and interests_ranked.interest_rank = 1
)

select * from final
