{#
    post-hook of int_order_items_pseudonymized (incremental by order): keep
    the lines a full refresh would hold, whose parents changed without a new
    line arriving.
    - Lines of an order no longer in int_orders_pseudonymized leave: the
      orders' retention, an erasure (the orders' purge), an order after a
      backward as_of or one that became a duplicate's loser.
    - Lines of a product no longer valid leave, and category and
      subcategory follow the product's current row (stg_shop__products), as
      the full refresh's join would have them.
#}
{% macro order_lines_follow_parents() -%}
    delete from {{ this }}
    where
        order_key not in (
            select orders.order_key from {{ ref('int_orders_pseudonymized') }} as orders
        )
        or product_id not in (
            select products.product_id from {{ ref('stg_shop__products') }} as products
        );
    update {{ this }} as lines
    set
        category = products.category,
        subcategory = products.subcategory
    from {{ ref('stg_shop__products') }} as products
    where
        lines.product_id = products.product_id
        and (
            lines.category is distinct from products.category
            or lines.subcategory is distinct from products.subcategory
        )
{%- endmacro %}
