{#
    The daily trigger feed: one row per customer, trigger and trigger date
    due within the trigger's window as of the run, for customers who granted
    every purpose the trigger needs and were not yet emailed for it. Reads
    only dates: of purchases, of carts left, of sends; never what was
    bought or for how much. Triggers are data (seed trigger_definitions,
    validated by trigger_definitions_checked()). Rules: docs block
    triggered_audiences.
#}
{%- do trigger_definitions_checked(ref('trigger_definitions'), ref('consent_purposes')) -%}
{%- set statuses = var('behavior_purchase_statuses') %}

with

triggers as (
    select
        trigger_type,
        trigger_kind,
        consent_purposes,
        days,
        order_count,
        window_days,
        campaign_objective
    from {{ ref('trigger_definitions') }}
),

orders as (
    select
        order_key,
        customer_key,
        ordered_date,
        ordered_hour
    from {{ ref('int_orders_pseudonymized') }}
    where
        order_status in ({{ "'" ~ (statuses | join("', '")) ~ "'" }})
        and ordered_date <= {{ as_of_date() }}
),

web_events as (
    select
        customer_key,
        session_key,
        event_type,
        occurred_date
    from {{ ref('int_web_events_pseudonymized') }}
    where
        customer_key is not null
        and occurred_date <= {{ as_of_date() }}
        and occurred_date > {{ as_of_date() }} - (
            select max(triggers.days + triggers.window_days) from triggers
            where triggers.trigger_kind = 'cart_abandoned'
        )
),

consented_subjects as (
    select
        customer_key,
        consent_purpose
    from {{ ref('int_consented_subjects') }}
),

sends as (
    select
        campaign_id,
        customer_key,
        sent_date
    from {{ ref('int_email_sends_pseudonymized') }}
    where sent_date <= {{ as_of_date() }}
),

campaigns as (
    select
        campaign_id,
        campaign_objective
    from {{ ref('stg_email__campaigns') }}
),

purchase_days as (
    select distinct
        customer_key,
        ordered_date
    from orders
),

orders_numbered as (
    select
        customer_key,
        ordered_date,
        row_number() over (
            partition by customer_key order by ordered_date, ordered_hour, order_key
        ) as order_number
    from orders
),

purchase_days_paired as (
    select
        customer_key,
        ordered_date,
        lag(ordered_date) over (
            partition by customer_key order by ordered_date
        ) as previous_ordered_date
    from purchase_days
),

purchase_gaps as (
    select
        customer_key,
        ordered_date,
        {{ dbt.datediff('previous_ordered_date', 'ordered_date', 'day') }} as gap_days
    from purchase_days_paired
),

{#- the customer's own rhythm: the median gap between their purchase days #}

purchase_rhythms as (
    select
        customer_key,
        count(*) as purchase_day_count,
        max(ordered_date) as last_purchase_date,
        cast(round(median(gap_days)) as integer) as median_gap_days
    from purchase_gaps
    group by customer_key
),

{#- a cart is abandoned when its session tracked no purchase and the
    customer placed no order from that day up to the as-of date #}

cart_sessions as (
    select
        customer_key,
        session_key,
        min(occurred_date) as cart_date,
        bool_or(event_type = 'purchase') as has_tracked_purchase
    from web_events
    group by customer_key, session_key
    having bool_or(event_type = 'add_to_cart')
),

carts_abandoned as (
    select distinct
        cart_sessions.customer_key,
        cart_sessions.cart_date
    from cart_sessions
    where
        not cart_sessions.has_tracked_purchase
        and not exists (
            select 1
            from orders
            where
                orders.customer_key = cart_sessions.customer_key
                and orders.ordered_date >= cart_sessions.cart_date
        )
),

triggers_observed as (
    select
        carts_abandoned.customer_key,
        triggers.trigger_type,
        carts_abandoned.cart_date + triggers.days as trigger_date
    from carts_abandoned
    cross join triggers
    where triggers.trigger_kind = 'cart_abandoned'

    union all

    select
        purchase_days.customer_key,
        triggers.trigger_type,
        purchase_days.ordered_date + triggers.days as trigger_date
    from purchase_days
    cross join triggers
    where triggers.trigger_kind = 'days_after_purchase'

    union all

    select
        orders_numbered.customer_key,
        triggers.trigger_type,
        orders_numbered.ordered_date + triggers.days as trigger_date
    from orders_numbered
    inner join triggers
        on orders_numbered.order_number = triggers.order_count
    where triggers.trigger_kind = 'order_milestone'

    union all

    select
        purchase_rhythms.customer_key,
        triggers.trigger_type,
        purchase_rhythms.last_purchase_date + purchase_rhythms.median_gap_days
        - triggers.days as trigger_date
    from purchase_rhythms
    inner join triggers
        on purchase_rhythms.purchase_day_count >= triggers.order_count
    where triggers.trigger_kind = 'repeat_purchase_due'
),

triggers_in_window as (
    select distinct
        triggers_observed.customer_key,
        triggers_observed.trigger_type,
        triggers_observed.trigger_date
    from triggers_observed
    inner join triggers
        on triggers_observed.trigger_type = triggers.trigger_type
    where
        triggers_observed.trigger_date <= {{ as_of_date() }}
        and triggers_observed.trigger_date > {{ as_of_date() }} - triggers.window_days
),

trigger_purposes as (
    select distinct
        trigger_type,
        consent_purpose
    from (
        select
            trigger_type,
            {{ split_rows('trim(consent_purposes)', ' ') }} as consent_purpose
        from triggers
    ) as purposes_split
),

{#- every purpose the trigger needs, granted as of the run #}

triggers_consented as (
    select
        triggers_in_window.customer_key,
        triggers_in_window.trigger_type,
        triggers_in_window.trigger_date
    from triggers_in_window
    inner join trigger_purposes
        on triggers_in_window.trigger_type = trigger_purposes.trigger_type
    left join consented_subjects
        on
            triggers_in_window.customer_key = consented_subjects.customer_key
            and trigger_purposes.consent_purpose = consented_subjects.consent_purpose
    where trigger_purposes.consent_purpose <> ''
    group by
        triggers_in_window.customer_key,
        triggers_in_window.trigger_type,
        triggers_in_window.trigger_date
    having count(*) = count(consented_subjects.customer_key)
),

sends_by_objective as (
    select
        sends.customer_key,
        campaigns.campaign_objective,
        sends.sent_date
    from sends
    inner join campaigns
        on sends.campaign_id = campaigns.campaign_id
),

{#- acted on: an email of the trigger's campaign objective sent on or after the trigger date #}

final as (
    select
        triggers_consented.customer_key,
        triggers_consented.trigger_type,
        triggers_consented.trigger_date,
        {{ as_of_date() }} as as_of_date
    from triggers_consented
    inner join triggers
        on triggers_consented.trigger_type = triggers.trigger_type
    where not exists (
        select 1
        from sends_by_objective
        where
            sends_by_objective.customer_key = triggers_consented.customer_key
            and sends_by_objective.campaign_objective = triggers.campaign_objective
            and sends_by_objective.sent_date >= triggers_consented.trigger_date
    )
)

select * from final
