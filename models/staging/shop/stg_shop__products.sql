with

products as (
    select * from {{ ref('base_shop__products') }}
),

valid_products_renamed as (
    select
        product_id,
        product_name,
        lower(category) as category,
        lower(subcategory) as subcategory,
        list_price
    from products
    where _reject_reason is null
)

select * from valid_products_renamed
