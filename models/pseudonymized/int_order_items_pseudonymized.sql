{#-
    The line item id is not kept: nothing downstream needs a per-line key.
    A line is kept while its order is: the join to int_orders_pseudonymized
    applies the orders' retention (and erasure) without re-reading staging.
    Incremental by order (docs/performance.md, Incremental runs): the lines
    carry their order's date, so the window delete and filter of the orders
    apply (only the ids of orders dated in or after the window are hashed),
    and delete+insert by order_key replaces every line of an order loaded
    again. The post-hook order_lines_follow_parents drops the lines of
    orders that left int_orders_pseudonymized (retention, erasure) and keeps
    product categories current.
#}
{{ config(
    materialized='incremental',
    incremental_strategy=keyed_incremental_strategy(),
    full_refresh=keyed_full_refresh(),
    unique_key='order_key',
    on_schema_change='fail',
    pre_hook="{{ incremental_window_delete() }}",
    post_hook="{{ order_lines_follow_parents() }}",
) }}

with

order_items as (
    select
        order_id,
        product_id,
        quantity,
        unit_price,
        line_amount
    from {{ ref('stg_shop__order_items') }}
),

products as (
    select
        product_id,
        category,
        subcategory
    from {{ ref('stg_shop__products') }}
),

orders as (
    select
        order_key,
        ordered_date
    from {{ ref('int_orders_pseudonymized') }}
),

orders_to_load as (
    select staged_orders.order_id
    from {{ ref('stg_shop__orders') }} as staged_orders
    where {{ incremental_rows_filter('cast(staged_orders.ordered_at as date)') }}
),

order_items_to_load as (
    select
        order_items.order_id,
        order_items.product_id,
        order_items.quantity,
        order_items.unit_price,
        order_items.line_amount
    from order_items
    where order_items.order_id in (select orders_to_load.order_id from orders_to_load)
),

order_keys as (
    {{ distinct_pseudonyms('order', 'order_items_to_load', 'order_id') }}
),

final as (
    select
        order_keys.order_key,
        orders.ordered_date,
        order_items_to_load.product_id,
        products.category,
        products.subcategory,
        order_items_to_load.quantity,
        order_items_to_load.unit_price,
        {#- the contract's type on both engines (Spark widens quantity x price) #}
        cast(order_items_to_load.line_amount as decimal(18, 2)) as line_amount
    from order_items_to_load
    inner join order_keys
        on order_items_to_load.order_id = order_keys.order_id
    inner join products
        on order_items_to_load.product_id = products.product_id
    inner join orders
        on order_keys.order_key = orders.order_key
)

select * from final
