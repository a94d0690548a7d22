with

orders as (
    {{ event_fact_rows('int_orders_pseudonymized', [
        'order_key', 'customer_key', 'ordered_date', 'ordered_daypart', 'ordered_day_of_week',
        'order_status', 'order_channel', 'currency_code', 'total_amount',
    ]) }}
),

final as (
    {{ amounts_in_eur('orders', {'total_amount': 'order_value_eur'}) }}
)

select * from final
