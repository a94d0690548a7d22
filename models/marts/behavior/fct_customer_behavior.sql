{#
    One row per subject in scope of analytics as of the run: what they
    bought, how often and how recently, when they engage, what they love.
    The sums over a year of events come from fct_customer_behavior_aggregates
    (one row per subject, incremental); this model adds what depends on
    as_of or on every buyer at once: tenure, recency, cohort, RFM quintiles,
    categories and lifecycle stage.
    Business rules, thresholds and tie handling: docs block customer_behavior.
#}
{%- set frequency = var('behavior_frequency_min_orders') -%}
{%- set lifecycle = var('behavior_lifecycle_days') -%}
{%- set seasonality = var('behavior_seasonality') -%}
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

{#- what a year of events sums to per subject, kept incrementally #}

aggregates as (
    select
        customer_key,
        first_order_date,
        last_order_date,
        lifetime_orders,
        lifetime_value_eur,
        orders_in_window,
        value_in_window_eur,
        typical_days_between_orders,
        peak_quarter,
        peak_quarter_spend_share,
        preferred_daypart,
        weekend_activity_share,
        carts_started,
        carts_abandoned,
        emails_received,
        emails_opened,
        emails_clicked
    from {{ ref('fct_customer_behavior_aggregates') }}
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

subjects_joined as (
    select
        subjects_in_scope.customer_key,
        cast({{ dbt.datediff('customers.signed_up_date', as_of_date(), 'day') }} as bigint)
            as tenure_days,
        aggregates.first_order_date,
        aggregates.last_order_date,
        coalesce(aggregates.lifetime_orders, 0) as lifetime_orders,
        coalesce(aggregates.lifetime_value_eur, 0) as lifetime_value_eur,
        coalesce(aggregates.orders_in_window, 0) as orders_in_window,
        coalesce(aggregates.value_in_window_eur, 0) as value_in_window_eur,
        cast({{ dbt.datediff('aggregates.last_order_date', as_of_date(), 'day') }} as bigint)
            as recency_days,
        cast({{ dbt.datediff('aggregates.first_order_date', as_of_date(), 'day') }} as bigint)
            as days_since_first_order,
        aggregates.typical_days_between_orders,
        aggregates.peak_quarter,
        aggregates.peak_quarter_spend_share,
        aggregates.preferred_daypart,
        aggregates.weekend_activity_share,
        coalesce(aggregates.carts_started, 0) as carts_started,
        coalesce(aggregates.carts_abandoned, 0) as carts_abandoned,
        coalesce(aggregates.emails_received, 0) as emails_received,
        coalesce(aggregates.emails_opened, 0) as emails_opened,
        coalesce(aggregates.emails_clicked, 0) as emails_clicked,
        {%- for category in categories %}
        customer_affinity.{{ category }}_spend_share,
        {%- endfor %}
        customer_affinity.top_category,
        customer_affinity.affinity_cluster_id
    from subjects_in_scope
    inner join customers
        on subjects_in_scope.customer_key = customers.customer_key
    {#- A subject without a row of aggregates (its model not run since a
        grant) or affinity gets NULLs (coalesced above where 0 is meant). #}
    left join aggregates
        on subjects_in_scope.customer_key = aggregates.customer_key
    left join customer_affinity
        on subjects_in_scope.customer_key = customer_affinity.customer_key
),

{#- Quintile scores 1-5 among buyers: score = ceil(5 * share of buyers whose
    value is at or below this buyer's), in exact integer arithmetic. Ties
    share a score: the one of the highest position they reach. For recency,
    fewer days is better, so it is ranked on days descending. #}

buyers_scored as (
    select
        customer_key,
        {{ integer_divide(
            '5 * count(*) over (order by recency_days desc) + count(*) over () - 1',
            'count(*) over ()') }} as recency_score,
        {{ integer_divide(
            '5 * count(*) over (order by orders_in_window) + count(*) over () - 1',
            'count(*) over ()') }} as frequency_score,
        {{ integer_divide(
            '5 * count(*) over (order by value_in_window_eur) + count(*) over () - 1',
            'count(*) over ()') }} as monetary_score
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
                        {{ rounded_quotient(
                            'subjects_joined.lifetime_value_eur',
                            'subjects_joined.lifetime_orders',
                            2
                        ) }}
                    as decimal(14, 2))
        end as average_order_value_eur,
        cast(buyers_scored.recency_score as integer) as recency_score,
        cast(buyers_scored.frequency_score as integer) as frequency_score,
        cast(buyers_scored.monetary_score as integer) as monetary_score,
        cast(buyers_scored.recency_score as string)
            || cast(buyers_scored.frequency_score as string)
            || cast(buyers_scored.monetary_score as string) as rfm_score,
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
                then cast({{ rounded_quotient(
                    'subjects_joined.emails_opened', 'subjects_joined.emails_received', 2) }}
                    as decimal(3, 2))
        end as email_open_rate,
        case
            when subjects_joined.emails_received > 0
                then cast({{ rounded_quotient(
                    'subjects_joined.emails_clicked', 'subjects_joined.emails_received', 2) }}
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
