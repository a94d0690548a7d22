{#
    Incremental: see the behavioural layer docs (behavior_layer) for the
    window, backfill and purge rules shared by every event fact.
#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ incremental_window_delete('ordered_date') }}",
    post_hook="{{ purge_out_of_scope('analytics', 'ordered_date', 'orders') }}",
) }}

with

order_items as (
    select
        order_key,
        product_id,
        category,
        subcategory,
        quantity,
        unit_price,
        line_amount
    from {{ ref('int_order_items_pseudonymized') }}
),

orders as (
    select
        order_key,
        customer_key,
        ordered_date,
        order_status,
        currency_code
    from {{ ref('int_orders_pseudonymized') }} as upstream
    where {{ incremental_window_filter('upstream', 'ordered_date', 'analytics') }}
),

currency_rates as (
    select
        currency_code,
        eur_per_unit
    from {{ ref('currency_rates') }}
),

subjects_in_scope as (
    select customer_key
    from {{ ref('int_consented_subjects') }}
    where consent_purpose = 'analytics'
),

{# orders are filtered (window, backfill, scope) before they meet the
    lines: filtering after the join with twice as many lines costs twice as much -#}
orders_to_load as (
    select
        orders.order_key,
        orders.customer_key,
        orders.ordered_date,
        orders.order_status,
        orders.currency_code
    from orders
    inner join subjects_in_scope
        on orders.customer_key = subjects_in_scope.customer_key
),

final as (
    select
        order_items.order_key,
        orders_to_load.customer_key,
        orders_to_load.ordered_date,
        orders_to_load.order_status,
        order_items.product_id,
        order_items.category,
        order_items.subcategory,
        order_items.quantity,
        order_items.unit_price,
        order_items.line_amount,
        cast(order_items.line_amount * currency_rates.eur_per_unit as decimal(14, 2))
            as line_value_eur
    from order_items
    inner join orders_to_load
        on order_items.order_key = orders_to_load.order_key
    inner join currency_rates
        on orders_to_load.currency_code = currency_rates.currency_code
)

select * from final
