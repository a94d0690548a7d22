with

customers as (
    select * from {{ ref('base_shop__customers') }}
),

valid_customers_renamed as (
    select
        customer_id,
        first_name,
        last_name,
        lower(email) as email,
        phone,
        birth_date,
        street_address,
        upper(postcode) as postcode,
        city,
        upper(country) as country_code,
        signup_at as signed_up_at
    from customers
    where
        _reject_reason is null
        and {{ not_erased('customer_id') }}
)

select * from valid_customers_renamed
