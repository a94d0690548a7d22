with

orders as (
    select
        order_id,
        customer_id,
        ordered_at,
        order_status,
        order_channel,
        currency_code,
        total_amount
    from {{ ref('stg_shop__orders') }}
    where ordered_at >= {{ retention_start('orders') }}
),

customer_keys as (
    {{ distinct_pseudonyms('customer', 'orders', 'customer_id') }}
),

final as (
    select
        {{ pseudonymize('order', 'orders.order_id') }} as order_key,
        customer_keys.customer_key,
        {{ generalize_timestamp('orders.ordered_at', 'ordered') }},
        orders.order_status,
        orders.order_channel,
        orders.currency_code,
        orders.total_amount
    from orders
    inner join customer_keys
        on orders.customer_id = customer_keys.customer_id
)

select * from final
