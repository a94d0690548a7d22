{#-
    One row per subject in scope of analytics: what fct_customer_behavior
    derives from a year of events, summed per subject (counts, sums, first
    and last dates, the top daypart and quarter, carts, email campaigns),
    as of the run. Incremental (docs block customer_behavior_aggregates): a
    run recomputes only the subjects it affects (behavior_aggregates_affected:
    new or late events, an event leaving a window or retention, a new grant)
    and delete+insert replaces their rows; the post-hooks purge subjects out
    of scope and rows past retention (purge_out_of_scope) and date every row
    to the run's as_of.
#}
{{ config(
    materialized='incremental',
    incremental_strategy=keyed_incremental_strategy(),
    full_refresh=keyed_full_refresh(),
    unique_key='customer_key',
    on_schema_change='fail',
    post_hook=[
        "{{ purge_out_of_scope() }}",
        "{{ behavior_aggregates_dated() }}",
    ],
) }}
{%- set cart_days = var('behavior_cart_window_days') | int -%}
{%- set window_days = var('behavior_window_days') | int -%}
{%- set statuses = var('behavior_purchase_statuses') -%}
{%- set purchase = "order_status in ('" ~ (statuses | join("', '")) ~ "')" -%}

with

affected_subjects as (
    {{ behavior_aggregates_affected(purchase) }}
),

orders as (
    select
        customer_key,
        ordered_date,
        ordered_daypart,
        ordered_day_of_week,
        order_value_eur
    from {{ ref('fct_orders') }}
    where
        {{ purchase }}
        and customer_key in (select affected_subjects.customer_key from affected_subjects)
),

web_events as (
    select
        customer_key,
        session_key,
        event_type,
        occurred_date,
        occurred_daypart,
        occurred_day_of_week
    from {{ ref('fct_web_events') }}
    where
        {{ in_behavior_window('occurred_date') }}
        and customer_key in (select affected_subjects.customer_key from affected_subjects)
),

email_events as (
    select
        customer_key,
        campaign_id,
        event_type,
        occurred_date
    from {{ ref('fct_email_events') }}
    where
        {{ in_behavior_window('occurred_date') }}
        and customer_key in (select affected_subjects.customer_key from affected_subjects)
),

{#- Days a row stays in the warehouse: a row dated d is purged once as_of > d + days. #}

retention_days as (
    select
        {%- for category in ['orders', 'web_events', 'email_events'] %}
        cast({{ dbt.datediff(retention_start(category), as_of_date(), 'day') }} as integer)
            as {{ category }}
        {{- ',' if not loop.last }}
        {%- endfor %}
),

orders_summarized as (
    select
        customer_key,
        min(ordered_date) as first_order_date,
        max(ordered_date) as last_order_date,
        count(*) as lifetime_orders,
        sum(order_value_eur) as lifetime_value_eur,
        count(*) filter (where {{ in_behavior_window('ordered_date') }}) as orders_in_window,
        coalesce(
            sum(order_value_eur) filter (where {{ in_behavior_window('ordered_date') }}), 0
        ) as value_in_window_eur,
        {#- the last as_of at which every order counted stays counted (retention, window) #}
        least(
            min(ordered_date) + (select retention_days.orders from retention_days),
            min(ordered_date) filter (where {{ in_behavior_window('ordered_date') }})
            + {{ window_days - 1 }}
        ) as orders_valid_until
    from orders
    group by customer_key
),

order_gaps as (
    select
        customer_key,
        cast({{ dbt.datediff(
            'lag(ordered_date) over (partition by customer_key order by ordered_date)',
            'ordered_date', 'day') }} as bigint) as days_since_previous_order
    from (
        select distinct
            customer_key,
            ordered_date
        from orders
    ) as order_days
),

order_gaps_summarized as (
    select
        customer_key,
        cast(median(days_since_previous_order) as decimal(6, 1)) as typical_days_between_orders
    from order_gaps
    where days_since_previous_order is not null
    group by customer_key
),

spend_by_quarter as (
    select
        customer_key,
        quarter(ordered_date) as order_quarter,
        sum(order_value_eur) as quarter_value_eur,
        sum(sum(order_value_eur)) over (partition by customer_key) as window_value_eur
    from orders
    where {{ in_behavior_window('ordered_date') }}
    group by customer_key, quarter(ordered_date)
),

{#- the quarter with most spend; a tie goes to the earlier quarter #}

peak_quarters as (
    select
        customer_key,
        cast(order_quarter as bigint) as peak_quarter,
        case
            when
                window_value_eur > 0
                then cast({{ rounded_quotient('quarter_value_eur', 'window_value_eur', 2) }}
                    as decimal(3, 2))
        end as peak_quarter_spend_share
    from spend_by_quarter
    qualify row_number() over (
        partition by customer_key order by quarter_value_eur desc, order_quarter asc
    ) = 1
),

activity as (
    select
        customer_key,
        ordered_daypart as daypart,
        ordered_day_of_week as day_of_week
    from orders
    where {{ in_behavior_window('ordered_date') }}
    union all
    select
        customer_key,
        occurred_daypart as daypart,
        occurred_day_of_week as day_of_week
    from web_events
),

activity_by_daypart as (
    select
        customer_key,
        daypart,
        count(*) as activity_count,
        sum(count(*)) over (partition by customer_key) as total_activity,
        sum(count(*) filter (where day_of_week in (6, 7))) over (partition by customer_key)
            as weekend_activity
    from activity
    group by customer_key, daypart
),

{#- the daypart with most orders and web events; a tie goes to the name first in the alphabet #}

engagement_timing as (
    select
        customer_key,
        daypart as preferred_daypart,
        cast({{ rounded_quotient('weekend_activity', 'total_activity', 2) }} as decimal(3, 2))
            as weekend_activity_share
    from activity_by_daypart
    qualify
        row_number() over (partition by customer_key order by activity_count desc, daypart asc) = 1
),

web_summarized as (
    select
        customer_key,
        max(occurred_date) as last_web_event_date,
        {#- the last as_of at which every web event counted stays counted: the window and
            retention, and the cart window for the events in it #}
        least(
            min(occurred_date)
            + least({{ window_days - 1 }}, (select retention_days.web_events from retention_days)),
            min(occurred_date) filter (where occurred_date > {{ as_of_date() }} - {{ cart_days }})
            + {{ cart_days - 1 }}
        ) as web_valid_until
    from web_events
    group by customer_key
),

cart_sessions as (
    select
        customer_key,
        session_key,
        min(occurred_date) as session_date,
        bool_or(event_type = 'purchase') as has_tracked_purchase
    from web_events
    where occurred_date > {{ as_of_date() }} - {{ cart_days }}
    group by customer_key, session_key
    having bool_or(event_type = 'add_to_cart')
),

{#- a cart is abandoned when its session tracked no purchase and the
    subject placed no order that day or the next #}

carts_summarized as (
    select
        cart_sessions.customer_key,
        count(*) as carts_started,
        count(*) filter (
            where not cart_sessions.has_tracked_purchase and not exists (
                select 1
                from orders
                where
                    orders.customer_key = cart_sessions.customer_key
                    and orders.ordered_date
                    between cart_sessions.session_date and cart_sessions.session_date + 1
            )
        ) as carts_abandoned
    from cart_sessions
    group by cart_sessions.customer_key
),

campaigns_by_customer as (
    select
        customer_key,
        campaign_id,
        bool_or(event_type = 'send') as was_sent,
        bool_or(event_type = 'open') as was_opened,
        bool_or(event_type = 'click') as was_clicked
    from email_events
    group by customer_key, campaign_id
),

{#- opens and clicks count once per campaign, and only for campaigns sent in the window #}

email_summarized as (
    select
        customer_key,
        count(*) filter (where was_sent) as emails_received,
        count(*) filter (where was_sent and was_opened) as emails_opened,
        count(*) filter (where was_sent and was_clicked) as emails_clicked
    from campaigns_by_customer
    group by customer_key
),

email_dates as (
    select
        customer_key,
        max(occurred_date) as last_email_event_date,
        min(occurred_date)
        + least({{ window_days - 1 }}, (select retention_days.email_events from retention_days))
            as email_valid_until
    from email_events
    group by customer_key
),

final as (
    select
        affected_subjects.customer_key,
        {{ as_of_date() }} as as_of_date,
        orders_summarized.first_order_date,
        orders_summarized.last_order_date,
        coalesce(orders_summarized.lifetime_orders, 0) as lifetime_orders,
        cast(coalesce(orders_summarized.lifetime_value_eur, 0) as decimal(38, 2))
            as lifetime_value_eur,
        coalesce(orders_summarized.orders_in_window, 0) as orders_in_window,
        cast(coalesce(orders_summarized.value_in_window_eur, 0) as decimal(38, 2))
            as value_in_window_eur,
        order_gaps_summarized.typical_days_between_orders,
        peak_quarters.peak_quarter,
        peak_quarters.peak_quarter_spend_share,
        engagement_timing.preferred_daypart,
        engagement_timing.weekend_activity_share,
        coalesce(carts_summarized.carts_started, 0) as carts_started,
        coalesce(carts_summarized.carts_abandoned, 0) as carts_abandoned,
        coalesce(email_summarized.emails_received, 0) as emails_received,
        coalesce(email_summarized.emails_opened, 0) as emails_opened,
        coalesce(email_summarized.emails_clicked, 0) as emails_clicked,
        web_summarized.last_web_event_date,
        email_dates.last_email_event_date,
        {#- least() skips NULLs: NULL only for a subject without events to expire #}
        least(
            orders_summarized.orders_valid_until,
            web_summarized.web_valid_until,
            email_dates.email_valid_until
        ) as aggregates_valid_until
    from affected_subjects
    {#- One row per subject in each summary: a subject without orders or
        events gets NULLs (coalesced above where 0 is meant). #}
    {%- for summary in [
        'orders_summarized', 'order_gaps_summarized', 'peak_quarters', 'engagement_timing',
        'web_summarized', 'carts_summarized', 'email_summarized', 'email_dates',
    ] %}
    left join {{ summary }}
        on affected_subjects.customer_key = {{ summary }}.customer_key
    {%- endfor %}
)

select * from final
