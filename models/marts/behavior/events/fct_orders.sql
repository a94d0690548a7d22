{#
    Incremental, like every model of this folder (dbt_project.yml): see
    the docs block behavior_event_facts for the window, backfill and purge
    rules, which read the purpose and the date column from the yml.
#}
with

orders as (
    select
        order_key,
        customer_key,
        ordered_date,
        ordered_daypart,
        ordered_day_of_week,
        order_status,
        order_channel,
        currency_code,
        total_amount
    from {{ ref('int_orders_pseudonymized') }} as upstream
    where {{ incremental_window_filter('upstream') }}
),

currency_rates as (
    select
        currency_code,
        eur_per_unit
    from {{ ref('currency_rates') }}
),

subjects_in_scope as (
    {{ subjects_in_scope() }}
),

final as (
    select
        orders.order_key,
        orders.customer_key,
        orders.ordered_date,
        orders.ordered_daypart,
        orders.ordered_day_of_week,
        orders.order_status,
        orders.order_channel,
        orders.currency_code,
        orders.total_amount,
        cast(orders.total_amount * currency_rates.eur_per_unit as decimal(14, 2)) as order_value_eur
    from orders
    inner join currency_rates
        on orders.currency_code = currency_rates.currency_code
    inner join subjects_in_scope
        on orders.customer_key = subjects_in_scope.customer_key
)

select * from final
