{#-
    The line item id is not kept: nothing downstream needs a per-line key.
    A line is kept while its order is: the join to int_orders_pseudonymized
    applies the orders' retention (and erasure) without re-reading staging.
#}
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
    select order_key
    from {{ ref('int_orders_pseudonymized') }}
),

order_keys as (
    {{ distinct_pseudonyms('order', 'order_items', 'order_id') }}
),

final as (
    select
        order_keys.order_key,
        order_items.product_id,
        products.category,
        products.subcategory,
        order_items.quantity,
        order_items.unit_price,
        order_items.line_amount
    from order_items
    inner join order_keys
        on order_items.order_id = order_keys.order_id
    inner join products
        on order_items.product_id = products.product_id
    inner join orders
        on order_keys.order_key = orders.order_key
)

select * from final
