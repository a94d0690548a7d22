{#-
    Lines of the orders this run loads: the orders are filtered (window,
    backfill, scope) before they meet the lines, since filtering after the
    join, with twice as many lines, costs twice as much.
-#}
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
    {{ event_fact_rows('int_orders_pseudonymized', [
        'order_key', 'customer_key', 'ordered_date', 'order_status', 'currency_code',
    ]) }}
),

order_lines_joined as (
    select
        order_items.order_key,
        orders.customer_key,
        orders.ordered_date,
        orders.order_status,
        orders.currency_code,
        order_items.product_id,
        order_items.category,
        order_items.subcategory,
        order_items.quantity,
        order_items.unit_price,
        order_items.line_amount
    from order_items
    inner join orders
        on order_items.order_key = orders.order_key
),

order_lines_in_eur as (
    {{ amounts_in_eur('order_lines_joined', {'line_amount': 'line_value_eur'}) }}
),

final as (
    select
        order_lines_in_eur.order_key,
        order_lines_in_eur.customer_key,
        order_lines_in_eur.ordered_date,
        order_lines_in_eur.order_status,
        order_lines_in_eur.product_id,
        order_lines_in_eur.category,
        order_lines_in_eur.subcategory,
        order_lines_in_eur.quantity,
        order_lines_in_eur.unit_price,
        order_lines_in_eur.line_amount,
        order_lines_in_eur.line_value_eur
    from order_lines_in_eur
)

select * from final
