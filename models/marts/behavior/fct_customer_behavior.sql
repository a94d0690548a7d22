{#
    One row per subject in scope of analytics as of the run: what they
    bought, how often and how recently, when they engage, what they love.
    Business rules, thresholds and tie handling: docs block customer_behavior.
#}
{%- set cart_days = var('behavior_cart_window_days') | int -%}
{%- set frequency = var('behavior_frequency_min_orders') -%}
{%- set lifecycle = var('behavior_lifecycle_days') -%}
{%- set seasonality = var('behavior_seasonality') -%}
{%- set statuses = var('behavior_purchase_statuses') -%}
{%- set categories = var('behavior_affinity_categories') + ['other'] -%}
{%- if not (frequency.occasional < frequency.regular < frequency.frequent
    and frequency.occasional >= 2) -%}
    {{ exceptions.raise_compiler_error(
        "var 'behavior_frequency_min_orders' needs 2 <= occasional < regular < frequent, got "
        ~ frequency) }}
{%- endif -%}
{%- if not (0 < lifecycle.new and lifecycle.active < lifecycle.at_risk < lifecycle.lapsed) -%}
    {{ exceptions.raise_compiler_error(
        "var 'behavior_lifecycle_days' needs new > 0 and active < at_risk < lapsed, got "
        ~ lifecycle) }}
{%- endif -%}

with

subjects_in_scope as (
    select customer_key
    from {{ ref('int_consented_subjects') }}
    where consent_purpose = 'analytics'
),

customers as (
    select
        customer_key,
        signed_up_date
    from {{ ref('int_customers_pseudonymized') }}
),

orders as (
    select
        customer_key,
        ordered_date,
        ordered_daypart,
        ordered_day_of_week,
        order_value_eur
    from {{ ref('fct_orders') }}
    where order_status in ({{ "'" ~ (statuses | join("', '")) ~ "'" }})
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
    where {{ in_behavior_window('occurred_date') }}
),

email_events as (
    select
        customer_key,
        campaign_id,
        event_type
    from {{ ref('fct_email_events') }}
    where {{ in_behavior_window('occurred_date') }}
),

customer_affinity as (
    select
        customer_key,
        {%- for category in categories %}
        {{ category }}_spend_share,
        {%- endfor %}
        top_category,
        affinity_cluster_id
    from {{ ref('fct_customer_affinity') }}
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
        ) as value_in_window_eur
    from orders
    group by customer_key
),

order_gaps as (
    select
        customer_key,
        ordered_date - lag(ordered_date) over (partition by customer_key order by ordered_date)
            as days_since_previous_order
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
        order_quarter as peak_quarter,
        case
            when
                window_value_eur > 0
                then cast(round(quarter_value_eur / window_value_eur, 2) as decimal(3, 2))
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
        cast(round(weekend_activity / total_activity, 2) as decimal(3, 2)) as weekend_activity_share
    from activity_by_daypart
    qualify
        row_number() over (partition by customer_key order by activity_count desc, daypart asc) = 1
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

subjects_joined as (
    select
        subjects_in_scope.customer_key,
        {{ as_of_date() }} - customers.signed_up_date as tenure_days,
        orders_summarized.first_order_date,
        orders_summarized.last_order_date,
        coalesce(orders_summarized.lifetime_orders, 0) as lifetime_orders,
        coalesce(orders_summarized.lifetime_value_eur, 0) as lifetime_value_eur,
        coalesce(orders_summarized.orders_in_window, 0) as orders_in_window,
        coalesce(orders_summarized.value_in_window_eur, 0) as value_in_window_eur,
        {{ as_of_date() }} - orders_summarized.last_order_date as recency_days,
        {{ as_of_date() }} - orders_summarized.first_order_date as days_since_first_order,
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
        {%- for category in categories %}
        customer_affinity.{{ category }}_spend_share,
        {%- endfor %}
        customer_affinity.top_category,
        customer_affinity.affinity_cluster_id
    from subjects_in_scope
    inner join customers
        on subjects_in_scope.customer_key = customers.customer_key
    {#- One row per subject in each summary: a subject without orders, events
        or affinity gets NULLs (coalesced above where 0 is meant). #}
    {%- for summary in [
        'orders_summarized', 'order_gaps_summarized', 'peak_quarters', 'engagement_timing',
        'carts_summarized', 'email_summarized', 'customer_affinity',
    ] %}
    left join {{ summary }}
        on subjects_in_scope.customer_key = {{ summary }}.customer_key
    {%- endfor %}
),

{#- Quintile scores 1-5 among buyers: score = ceil(5 * share of buyers whose
    value is at or below this buyer's), in exact integer arithmetic. Ties
    share a score: the one of the highest position they reach. For recency,
    fewer days is better, so it is ranked on days descending. #}

buyers_scored as (
    select
        customer_key,
        (5 * count(*) over (order by recency_days desc) + count(*) over () - 1)
            // count(*) over () as recency_score,
        (5 * count(*) over (order by orders_in_window) + count(*) over () - 1)
            // count(*) over () as frequency_score,
        (5 * count(*) over (order by value_in_window_eur) + count(*) over () - 1)
            // count(*) over () as monetary_score
    from subjects_joined
    where lifetime_orders > 0
),

final as (
    select
        subjects_joined.customer_key,
        {{ as_of_date() }} as as_of_date,
        subjects_joined.tenure_days,
        subjects_joined.first_order_date,
        subjects_joined.last_order_date,
        cast(date_trunc('month', subjects_joined.first_order_date) as date)
            as first_purchase_cohort_month,
        subjects_joined.recency_days,
        subjects_joined.lifetime_orders,
        subjects_joined.lifetime_value_eur,
        subjects_joined.orders_in_window,
        subjects_joined.value_in_window_eur,
        case
            when subjects_joined.lifetime_orders > 0
                then
                    cast(
                        round(
                            subjects_joined.lifetime_value_eur / subjects_joined.lifetime_orders, 2
                        )
                    as decimal(14, 2))
        end as average_order_value_eur,
        cast(buyers_scored.recency_score as integer) as recency_score,
        cast(buyers_scored.frequency_score as integer) as frequency_score,
        cast(buyers_scored.monetary_score as integer) as monetary_score,
        cast(buyers_scored.recency_score as varchar)
            || cast(buyers_scored.frequency_score as varchar)
            || cast(buyers_scored.monetary_score as varchar) as rfm_score,
        case
            when subjects_joined.orders_in_window >= {{ frequency.frequent }} then 'frequent'
            when subjects_joined.orders_in_window >= {{ frequency.regular }} then 'regular'
            when subjects_joined.orders_in_window >= {{ frequency.occasional }} then 'occasional'
            when subjects_joined.orders_in_window = 1 then 'one_time'
            else 'none'
        end as purchase_frequency_category,
        case
            when subjects_joined.lifetime_orders = 0 then 'prospect'
            when subjects_joined.lifetime_orders = 1 then 'first_time'
            else 'repeat'
        end as buyer_type,
        case
            when subjects_joined.lifetime_orders = 0 then 'prospect'
            when subjects_joined.days_since_first_order <= {{ lifecycle.new }} then 'new'
            when subjects_joined.recency_days <= {{ lifecycle.active }} then 'active'
            when subjects_joined.recency_days <= {{ lifecycle.at_risk }} then 'at_risk'
            when subjects_joined.recency_days <= {{ lifecycle.lapsed }} then 'lapsed'
            else 'churned'
        end as lifecycle_stage,
        subjects_joined.typical_days_between_orders,
        subjects_joined.preferred_daypart,
        subjects_joined.weekend_activity_share,
        subjects_joined.emails_received,
        case
            when subjects_joined.emails_received > 0
                then cast(round(subjects_joined.emails_opened / subjects_joined.emails_received, 2)
                    as decimal(3, 2))
        end as email_open_rate,
        case
            when subjects_joined.emails_received > 0
                then cast(round(subjects_joined.emails_clicked / subjects_joined.emails_received, 2)
                    as decimal(3, 2))
        end as email_click_rate,
        subjects_joined.carts_started,
        subjects_joined.carts_abandoned,
        subjects_joined.peak_quarter,
        subjects_joined.peak_quarter_spend_share,
        coalesce(
            subjects_joined.orders_in_window >= {{ seasonality.min_orders }}
            and subjects_joined.peak_quarter_spend_share >= {{ seasonality.min_peak_share }},
            false
        ) as is_seasonal_shopper,
        {%- for category in categories %}
        subjects_joined.{{ category }}_spend_share,
        {%- endfor %}
        subjects_joined.top_category,
        subjects_joined.affinity_cluster_id
    from subjects_joined
    left join buyers_scored
        on subjects_joined.customer_key = buyers_scored.customer_key
)

select * from final
