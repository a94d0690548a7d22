{#
    Predicate: the row's customer has no accepted erasure request (received
    or completed, not rejected) as of the run (erased_customer_ids). Staging
    applies it, so an erased subject disappears from every model rebuilt on
    the next run; the incremental ones delete the rows they hold
    (purge_expired_and_erased, purge_out_of_scope). Rows without a customer
    (anonymous web traffic) are kept.
#}
{% macro not_erased(customer_id_column) -%}
    ({{ customer_id_column }} is null or {{ customer_id_column }} not in (
        {{ erased_customer_ids() }}
    ))
{%- endmacro %}
