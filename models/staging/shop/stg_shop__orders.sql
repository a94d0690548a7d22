with

orders as (
    select * from {{ ref('base_shop__orders') }}
),

valid_orders_renamed as (
    select
        order_id,
        customer_id,
        ordered_at,
        status as order_status,
        channel as order_channel,
        currency as currency_code,
        total_amount,
        upper(shipping_postcode) as shipping_postcode
    from orders
    where
        _reject_reason is null
        and {{ not_erased('customer_id') }}
)

select * from valid_orders_renamed
