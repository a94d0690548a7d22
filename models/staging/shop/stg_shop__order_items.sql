with

order_items as (
    select * from {{ ref('base_shop__order_items') }}
),

{# lines of an erased customer's orders go with the orders -#}
orders_kept as (
    select order_id from {{ ref('stg_shop__orders') }}
),

valid_order_items_renamed as (
    select
        order_items.order_item_id,
        order_items.order_id,
        order_items.product_id,
        order_items.quantity,
        order_items.unit_price,
        order_items.quantity * order_items.unit_price as line_amount
    from order_items
    inner join orders_kept
        on order_items.order_id = orders_kept.order_id
    where order_items._reject_reason is null
)

select * from valid_order_items_renamed
