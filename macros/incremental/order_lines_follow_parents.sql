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
    {{ return(adapter.dispatch('order_lines_follow_parents', 'privacy_segmentation')()) }}
{%- endmacro %}

{% macro default__order_lines_follow_parents() -%}
    {{ delete_where(this, order_lines_orphaned()) }};
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

{#
    Spark: the orphaned lines leave (delete_where). The category update is
    left out: Spark rebuilds the model in full on every run (its full_refresh
    config, keyed_full_refresh; keyed_incremental_strategy stops an
    incremental run), and
    a full build's join just took category and subcategory from the
    product's current row, so it would change nothing.
#}
{% macro spark__order_lines_follow_parents() -%}
    {{ delete_where(this, order_lines_orphaned()) }}
{%- endmacro %}

{# Predicate of the lines whose order or product left (order_lines_follow_parents). #}
{% macro order_lines_orphaned() -%}
    {{ absent_from('order_key', ref('int_orders_pseudonymized'), 'order_key') }}
    or {{ absent_from('product_id', ref('stg_shop__products'), 'product_id') }}
{%- endmacro %}
