with

order_items as (
    select * from {{ ref('base_shop__order_items') }}
),

valid_order_items_renamed as (
    select
        order_item_id,
        order_id,
        product_id,
        quantity,
        unit_price,
        quantity * unit_price as line_amount
    from order_items
    where
        _reject_reason is null
        {#- lines of an erased customer's orders go with the orders #}
        and order_id in (select order_id from {{ ref('stg_shop__orders') }})
)

select * from valid_order_items_renamed
