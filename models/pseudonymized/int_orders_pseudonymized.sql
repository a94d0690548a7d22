{#-
    Incremental (docs/performance.md, Incremental runs): a run hashes only
    the orders dated after the late-data window or before the oldest row
    kept; delete+insert by order_key lets a duplicate id's winner replace
    the row it beats. Window delete, retention and erasure purge: macros/
    incremental.
#}
{{ config(
    materialized='incremental',
    incremental_strategy=keyed_incremental_strategy(),
    full_refresh=keyed_full_refresh(),
    unique_key='order_key',
    on_schema_change='fail',
    pre_hook="{{ incremental_window_delete() }}",
    post_hook="{{ purge_expired_and_erased() }}",
) }}

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
    where
        ordered_at >= {{ retention_start('orders') }}
        and {{ incremental_rows_filter('cast(ordered_at as date)') }}
),

dayparts as (
    select
        hour_of_day,
        daypart
    from {{ ref('dayparts') }}
),

customer_keys as (
    {{ distinct_pseudonyms('customer', 'orders', 'customer_id') }}
),

orders_generalized as (
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
),

final as (
    select
        orders_generalized.order_key,
        orders_generalized.customer_key,
        orders_generalized.ordered_date,
        orders_generalized.ordered_hour,
        dayparts.daypart as ordered_daypart,
        orders_generalized.ordered_day_of_week,
        orders_generalized.order_status,
        orders_generalized.order_channel,
        orders_generalized.currency_code,
        orders_generalized.total_amount
    from orders_generalized
    inner join dayparts
        on orders_generalized.ordered_hour = dayparts.hour_of_day
)

select * from final
