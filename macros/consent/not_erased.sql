{#
    Predicate: the row's customer has no accepted erasure request (received
    or completed, not rejected) as of the run. Staging applies it, so an
    erased subject disappears from every model on the next run. Rows without
    a customer (anonymous web traffic) are kept.
#}
{% macro not_erased(customer_id_column) -%}
    ({{ customer_id_column }} is null or {{ customer_id_column }} not in (
        select erasure_requests.customer_id
        from {{ ref('stg_preference_center__erasure_requests') }} as erasure_requests
        where erasure_requests.request_status in ('received', 'completed')
    ))
{%- endmacro %}
