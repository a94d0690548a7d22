{#-
    The line item id is not kept: nothing downstream needs a per-line key.
    A line is kept while its order is: the join to int_orders_pseudonymized
    applies the orders' retention (and erasure) without re-reading staging.
    Incremental (docs/performance.md, Incremental runs), by order: a run
    reads and hashes only the lines of orders dated in the late-data window
    of the orders it holds (or after it, or before the oldest: as_of moved
    back), and delete+insert by order_key replaces all lines of such an
    order. The post-hook order_lines_follow_parents drops the lines of
    orders that left int_orders_pseudonymized (retention, erasure, a row
    after as_of) and keeps product categories current.
#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='order_key',
    on_schema_change='fail',
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

staged_orders as (
    select
        order_id,
        ordered_at
    from {{ ref('stg_shop__orders') }}
),

{% if is_incremental() and not raw_files_changed_this_run() -%}
{#- The dates of the orders whose lines the table holds: their window. -#}
loaded_order_dates as (
    select
        max(loaded_orders.ordered_date) - {{ var('behavior_lookback_days') | int }}
            as window_start,
        min(loaded_orders.ordered_date) as oldest_date
    from orders as loaded_orders
    where loaded_orders.order_key in (select loaded.order_key from {{ this }} as loaded)
),

order_ids_to_load as (
    select staged_orders.order_id
    from staged_orders
    cross join loaded_order_dates
    where
        loaded_order_dates.window_start is null
        or cast(staged_orders.ordered_at as date) >= loaded_order_dates.window_start
        or cast(staged_orders.ordered_at as date) < loaded_order_dates.oldest_date
),

order_items_to_load as (
    select
        order_items.order_id,
        order_items.product_id,
        order_items.quantity,
        order_items.unit_price,
        order_items.line_amount
    from order_items
    where order_items.order_id in (select order_ids_to_load.order_id from order_ids_to_load)
),
{%- else -%}
order_items_to_load as (
    select
        order_items.order_id,
        order_items.product_id,
        order_items.quantity,
        order_items.unit_price,
        order_items.line_amount
    from order_items
),
{%- endif %}

order_keys as (
    {{ distinct_pseudonyms('order', 'order_items_to_load', 'order_id') }}
),

final as (
    select
        order_keys.order_key,
        order_items_to_load.product_id,
        products.category,
        products.subcategory,
        order_items_to_load.quantity,
        order_items_to_load.unit_price,
        order_items_to_load.line_amount
    from order_items_to_load
    inner join order_keys
        on order_items_to_load.order_id = order_keys.order_id
    inner join products
        on order_items_to_load.product_id = products.product_id
    inner join orders
        on order_keys.order_key = orders.order_key
)

select * from final
