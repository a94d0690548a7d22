{#- The line item id is not kept: nothing downstream needs a per-line key. #}
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

{#- a line is as old as its order #}
orders_in_retention as (
    select order_id
    from {{ ref('stg_shop__orders') }}
    where ordered_at >= {{ retention_start('orders') }}
),

products as (
    select
        product_id,
        category,
        subcategory
    from {{ ref('stg_shop__products') }}
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
    inner join orders_in_retention
        on order_items.order_id = orders_in_retention.order_id
)

select * from final
