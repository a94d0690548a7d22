{#
    Select of the raw customer ids (customer_id) with an accepted erasure
    request (received or completed, not rejected) as of the run: staging
    filters them out (not_erased) and the incremental pseudonymized tables
    delete their rows (purge_expired_and_erased).
#}
{% macro erased_customer_ids() -%}
    select erasure_requests.customer_id
    from {{ ref('stg_preference_center__erasure_requests') }} as erasure_requests
    where erasure_requests.request_status in ('received', 'completed')
{%- endmacro %}
