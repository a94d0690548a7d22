{#
    Incremental, like every model of this folder (dbt_project.yml): see
    the docs block behavior_event_facts for the window, backfill and purge
    rules, which read the purpose and the date column from the yml.
#}
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
    where {{ incremental_window_filter('upstream') }}
),

currency_rates as (
    select
        currency_code,
        eur_per_unit
    from {{ ref('currency_rates') }}
),

subjects_in_scope as (
    {{ subjects_in_scope() }}
),

{#- orders are filtered (window, backfill, scope) before they meet the
    lines: filtering after the join with twice as many lines costs twice as much #}
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
        cast(order_items.line_amount * currency_rates.eur_per_unit as decimal(14, 2)) as line_value_eur
    from order_items
    inner join orders_to_load
        on order_items.order_key = orders_to_load.order_key
    inner join currency_rates
        on orders_to_load.currency_code = currency_rates.currency_code
)

select * from final
